module github.com/fdk-conformance/probe-go

go 1.23

require github.com/fnproject/fdk-go v0.0.65
