// Bundle-time replacement for `thread-stream`, which pino loads only to run log transports in a worker
// thread. The Lambda app configures no transport (it logs to stdout, which Lambda collects); should one
// ever be configured, this fails loudly at start instead of silently not logging.
'use strict'
module.exports = class ThreadStream {
  constructor () {
    throw new Error('pino transports are not available in the Lambda bundle (scripts/shims/thread-stream.cjs)')
  }
}
