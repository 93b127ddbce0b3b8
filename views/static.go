package views

import "embed"

// Static holds the stylesheet and images, served under /static/.
//
//go:embed static
var Static embed.FS
