// Package controllertest is the test harness the controller packages share; only their tests import it.
//
// # Contract
//
//   - Env is what a controller's unit tests build it from: a fake clientset, an informer factory that is never
//     started (Cache fills its indexers as watch events would) and a fake event recorder. Tests call the
//     controller's synchronous sync directly and read what it wrote with Writes and Events.
//   - StartServer runs the real `skiff server` (Binary: $SKIFF_BIN, or ./cmd/skiff built once) with
//     --disable-agent until the test ends, and returns once /readyz answers ok; a package whose tests use it
//     calls Main from its TestMain so that a binary built here is removed afterwards.
//   - Nothing here sleeps for a fixed time: waits poll with a deadline.
package controllertest
