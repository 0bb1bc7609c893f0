// Package controller holds what every controller run by the controller manager
// shares: the Controller interface, the Context it is built from, and the
// keys-only work-queue shell that drives a synchronous sync function.
//
// A controller package follows one shape (see the namespace and serviceaccount
// packages for small examples):
//
//  1. Export `func New(cc controller.Context) (controller.Controller, error)`.
//     New requests every informer it needs from cc.Informers or
//     cc.MetadataInformers and adds its event handlers; it starts no goroutine
//     and does no I/O (AddHandlers registers several and collects their
//     HasSynced; cc.ClockOrReal and cc.LogOrDefault fill in a nil Clock or Log).
//     The manager starts the informer factories after every controller has
//     been constructed.
//  2. Event handlers enqueue keys only (namespace/name or a small comparable
//     struct), never objects.
//  3. The core is a synchronous `sync(ctx, key) (controller.Result, error)` that
//     re-reads the object from the informer cache, treats NotFound as done,
//     deep-copies before changing anything, and reads time only through
//     cc.Clock. Tests call it directly with fake clientsets and preloaded
//     indexers.
//  4. Run(ctx, workers) waits for the caches it uses, then calls RunWorkers,
//     which blocks until ctx ends and returns after its workers have stopped.
//
// Retry contract of a sync function (RunWorkers implements it): a nil error
// forgets the key's failures, and a Result with RequeueAfter > 0 adds the key
// again after that delay; a non-nil error requeues the key with per-key
// exponential backoff (5 ms doubling to 1000 s); an error wrapped by Terminal is
// logged and the key dropped until the next event.
package controller
