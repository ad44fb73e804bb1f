package main

import "strings"

// splitLines splits a multi-line message (such as a config error, one
// problem per line) into its non-empty lines.
func splitLines(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}
