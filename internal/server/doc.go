// Package server assembles `skiff server`: certificates, storage (embedded or
// external etcd), the API server behind TLS and authentication, and the
// components that run beside it. Run owns every goroutine it starts and returns
// after all of them have stopped.
package server
