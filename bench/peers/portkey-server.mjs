// Runs Portkey's gateway bound to 127.0.0.1 only: its server listens on every interface and has no option
// for the host, so the listen call is pinned here before its entry module loads.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'object' && args[0] !== null)
    return listen.call(this, { ...args[0], host: '127.0.0.1' }, ...args.slice(1));
  if (typeof args[0] === 'number')
    return listen.call(this, args[0], '127.0.0.1', ...args.slice(typeof args[1] === 'string' ? 2 : 1));
  return listen.apply(this, args);
};
await import('./node_modules/@portkey-ai/gateway/build/start-server.js');
