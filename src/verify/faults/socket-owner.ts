import * as fs from 'node:fs';

/**
 * Which local process owns the client end of a loopback TCP connection. The fault proxy uses
 * it to tell which member dialed it: members dial peers from the default source address, so
 * the remote address alone says nothing, but the remote *port* is a socket that exactly one
 * member process holds open (Linux: /proc/net/tcp gives the socket inode, /proc/<pid>/fd
 * links to it). Returns undefined when the lookup is impossible (not Linux, process gone).
 */

/** Inode of the socket whose local end is 127.0.0.1:<localPort> and remote end is 127.0.0.1:<remotePort>. */
function socketInode(localPort: number, remotePort: number): string | undefined {
  const local = `0100007F:${localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = `0100007F:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`;
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (fields[1] === local && fields[2] === remote) return fields[9];
  }
  return undefined;
}

function pidHoldsSocket(pid: number, inode: string): boolean {
  const wanted = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === wanted) return true;
    } catch {
      // fd closed meanwhile
    }
  }
  return false;
}

/**
 * The pid among `candidates` that holds the socket 127.0.0.1:<clientPort> → 127.0.0.1:<serverPort>.
 */
export function findSocketOwner(clientPort: number, serverPort: number, candidates: readonly number[]): number | undefined {
  const inode = socketInode(clientPort, serverPort);
  if (inode === undefined || inode === '0') return undefined;
  for (const pid of candidates) if (pidHoldsSocket(pid, inode)) return pid;
  return undefined;
}
