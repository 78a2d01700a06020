package dtscheck

import (
	"regexp"
	"strings"
)

// Reference is what a reference page (docs/reference/*.md) documents:
// for each class — a "## " heading, named by its first `code` span (or its
// first word) — the names of its "### " sections. A section heading may
// name several members: every `code` span counts. A name is normalised:
// "channel.queue_declare(queue_name, …)" is "queue_declare",
// "[Symbol.asyncIterator]()" is "[Symbol.asyncIterator]".
type Reference map[string]map[string]bool

var reCode = regexp.MustCompile("`([^`]+)`")

// ParseReference reads a reference page. Headings inside ``` blocks are
// ignored.
func ParseReference(md string) Reference {
	ref := Reference{}
	var cur map[string]bool
	inCode := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		switch {
		case strings.HasPrefix(line, "## "):
			head := strings.TrimPrefix(line, "## ")
			key := strings.Fields(head)[0]
			if m := reCode.FindStringSubmatch(head); m != nil {
				key = m[1]
			}
			if ref[key] == nil {
				ref[key] = map[string]bool{}
			}
			cur = ref[key]
		case strings.HasPrefix(line, "### ") && cur != nil:
			for _, m := range reCode.FindAllStringSubmatch(line, -1) {
				if n := memberName(m[1]); n != "" {
					cur[n] = true
				}
			}
		}
	}
	return ref
}

func memberName(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if k := strings.Index(s, "]"); k > 0 {
			return s[:k+1]
		}
		return ""
	}
	if k := strings.IndexAny(s, "( =:,"); k >= 0 {
		s = s[:k]
	}
	if k := strings.LastIndex(s, "."); k >= 0 {
		s = s[k+1:]
	}
	return s
}
