// Preloaded (node --import) into third-party servers the tests start, such as the MCP reference server,
// whose listen(port) binds every interface: a listen without a host binds 127.0.0.1 instead.
import net from 'node:net'

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first, second] = args
  const portOnly = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))
  if (portOnly && typeof second !== 'string') args.splice(1, 0, '127.0.0.1')
  return listen.apply(this, args)
}
