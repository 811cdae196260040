// Every local stand-in listens the same way: on 127.0.0.1 only, at a port the system picks, so runs
// never collide on a port and nothing is reachable from outside the machine.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1, port 0; resolves with the origin, e.g. "http://127.0.0.1:41234". */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Stops listening and drops open connections, which keep-alive clients would otherwise hold open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
