package tenants

import (
	"fmt"
	"math"
	"strconv"
)

// Colours of the end-user pages that a tenant's accent is measured
// against (views/static/gatehouse.css): the card and the page around it.
const (
	PageCard       = "#ffffff"
	PageBackground = "#f6f8fa"
	// AccentInk is the text on accent-coloured buttons.
	AccentInk = "#ffffff"
	// MinAccentContrast is the contrast the accent needs against the
	// page's light colours: WCAG 2.x 1.4.3 for normal text (4.5:1), since
	// the accent is the colour of links and the background of button
	// text (AccentInk); it also makes focus rings (1.4.11, 3:1) visible.
	MinAccentContrast = 4.5
)

// RGB is a colour of the sRGB space, 8 bits a channel.
type RGB struct{ R, G, B uint8 }

// ParseHex reads a colour written #rrggbb.
func ParseHex(s string) (RGB, error) {
	if len(s) != 7 || s[0] != '#' {
		return RGB{}, fmt.Errorf("colour %q: want #rrggbb", Truncate(s, 20))
	}
	n, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return RGB{}, fmt.Errorf("colour %q: want #rrggbb", Truncate(s, 20))
	}
	return RGB{uint8(n >> 16), uint8(n >> 8), uint8(n)}, nil
}

// Hex writes c as #rrggbb.
func (c RGB) Hex() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// Luminance is c's relative luminance, 0 (black) to 1 (white), as WCAG
// 2.x defines it from the linearised sRGB channels.
func (c RGB) Luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// Contrast is the WCAG contrast ratio of a and b: 1 (the same) to 21
// (black on white).
func Contrast(a, b RGB) float64 {
	la, lb := a.Luminance(), b.Luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Accent is a tenant's accent colour as the pages use it.
type Accent struct {
	// Color is the accent to use: the tenant's, or a darker shade of it
	// when the tenant's would be unreadable.
	Color string
	// Ink is the colour of text on it.
	Ink string
	// Corrected says that Color is not the tenant's own.
	Corrected bool
	// Contrast is Color's contrast with the page background.
	Contrast float64
}

// ReadableAccent returns the accent the pages use for the tenant's colour
// hex: hex itself when links in it and AccentInk text on it are readable
// on the page (MinAccentContrast), else the lightest darker shade of the
// same hue that is. An unparsable hex is returned unchanged, uncorrected
// (it is never written into a stylesheet).
func ReadableAccent(hex string) Accent {
	c, err := ParseHex(hex)
	if err != nil {
		return Accent{Color: hex, Ink: AccentInk}
	}
	bg, _ := ParseHex(PageBackground)
	a := Accent{Color: c.Hex(), Ink: AccentInk, Contrast: Contrast(c, bg)}
	if a.Contrast >= MinAccentContrast {
		return a
	}
	// Scale every channel down by the same factor (the hue stays) until
	// the contrast is enough; black always is.
	for k := 0.99; k >= 0; k -= 0.01 {
		d := RGB{uint8(float64(c.R) * k), uint8(float64(c.G) * k), uint8(float64(c.B) * k)}
		if r := Contrast(d, bg); r >= MinAccentContrast {
			return Accent{Color: d.Hex(), Ink: AccentInk, Corrected: true, Contrast: r}
		}
	}
	return Accent{Color: "#000000", Ink: AccentInk, Corrected: true, Contrast: Contrast(RGB{}, bg)}
}
