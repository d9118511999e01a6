module github.com/guardsdk/guard/examples

go 1.26.0

replace github.com/guardsdk/guard => ../

require (
	github.com/guardsdk/guard v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.17.3
	golang.org/x/crypto v0.48.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
