package console

import "strconv"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// orDash shows an em dash for a missing value.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// colourOr is the colour picker's value: the accent colour, or the default.
func colourOr(c string) string {
	if len(c) == 7 && c[0] == '#' {
		return c
	}
	return "#3b5bdb"
}

// plural picks the word for n things.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
