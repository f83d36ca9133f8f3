module github.com/candlewire/candlewire/bench/depbench

go 1.26.8

require (
	github.com/cockroachdb/apd/v3 v3.2.3 // indirect
	github.com/govalues/decimal v0.1.36 // indirect
	github.com/quagmt/udecimal v1.10.1 // indirect
	github.com/shopspring/decimal v1.6.0 // indirect
)
