//go:build !unix

package merge

func cpuTime() int64 { return 0 }
