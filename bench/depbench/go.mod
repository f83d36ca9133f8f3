module github.com/candlewire/candlewire/bench/depbench

go 1.26.8

require (
	github.com/cockroachdb/apd/v3 v3.2.3
	github.com/coder/websocket v1.8.15
	github.com/goccy/go-json v0.12.0
	github.com/gorilla/websocket v1.5.3
	github.com/govalues/decimal v0.1.36
	github.com/json-iterator/go v1.1.12
	github.com/lesismal/nbio v1.6.8
	github.com/quagmt/udecimal v1.10.1
	github.com/shopspring/decimal v1.6.0
)

require (
	github.com/lesismal/llib v1.2.2 // indirect
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	golang.org/x/crypto v0.0.0-20210513122933-cd7d49e622d5 // indirect
	golang.org/x/sys v0.0.0-20210423082822-04245dca01da // indirect
)
