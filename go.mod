module github.com/candlewire/candlewire

go 1.26.8

require github.com/quagmt/udecimal v1.10.1
