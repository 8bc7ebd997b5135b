package data

import (
	"bytes"
	"strconv"
	"strings"
)

// Separators are the field separators SniffSeparator chooses among, in
// order of preference.
var Separators = []rune{',', ';', '\t'}

// sniffLines is how many leading lines SniffSeparator looks at.
const sniffLines = 20

// SniffSeparator guesses the field separator of delimited text from its
// first lines (at most 20 whole lines of head; a last line without a line
// break is taken to be cut off unless it is the only one). A separator is
// consistent when it splits every line into the same number of fields,
// more than one; the most fields wins, ties going to the earlier of ',',
// ';', tab. Without a consistent one, fallback is returned. Separators
// inside double quotes do not count.
func SniffSeparator(head []byte, fallback rune) rune {
	var lines [][]byte
	rest := head
	for len(rest) > 0 && len(lines) < sniffLines {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if len(lines) == 0 {
				lines = append(lines, rest)
			}
			break
		}
		lines = append(lines, rest[:i])
		rest = rest[i+1:]
	}
	best, bestN := fallback, 1
	for _, c := range Separators {
		n := -1
		for _, ln := range lines {
			if len(bytes.TrimSpace(ln)) == 0 {
				continue
			}
			k := countFields(ln, byte(c))
			if n >= 0 && k != n {
				n = 0
				break
			}
			n = k
		}
		if n > bestN {
			best, bestN = c, n
		}
	}
	return best
}

// countFields counts the fields of line split by sep outside double quotes.
func countFields(line []byte, sep byte) int {
	n, inQuote := 1, false
	for _, c := range line {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			n++
		}
	}
	return n
}

// separatorHint, for a line that the separator comma leaves as one field,
// names another separator that splits it, e.g. "';' splits it into 3
// columns: wrong separator?"; "" if none does.
func separatorHint(line string, comma rune) string {
	for _, c := range Separators {
		if c == comma || !strings.ContainsRune(line, c) {
			continue
		}
		return sepName(c) + " splits it into " + strconv.Itoa(countFields([]byte(line), byte(c))) + " columns: wrong separator?"
	}
	return ""
}

// sepName quotes a separator for messages: ',' ';' '\t'.
func sepName(c rune) string {
	if c == '\t' {
		return `'\t'`
	}
	return "'" + string(c) + "'"
}
