package tenants

import (
	"math"
	"testing"
)

func TestContrast(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want float64
	}{
		{"black on white", "#000000", "#ffffff", 21},
		{"white on white", "#ffffff", "#ffffff", 1},
		{"order does not matter", "#ffffff", "#000000", 21},
		{"grey 777 on white", "#777777", "#ffffff", 4.48},
		{"grey 767676 on white, the lightest AA grey", "#767676", "#ffffff", 4.54},
		{"the default accent on white", "#3b5bdb", "#ffffff", 5.67},
		{"yellow on white", "#ffeb3b", "#ffffff", 1.22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := ParseHex(tt.a)
			b, _ := ParseHex(tt.b)
			if got := Contrast(a, b); math.Abs(got-tt.want) > 0.01 {
				t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestLuminance(t *testing.T) {
	for hex, want := range map[string]float64{"#000000": 0, "#ffffff": 1, "#ff0000": 0.2126, "#00ff00": 0.7152, "#0000ff": 0.0722, "#808080": 0.2159} {
		c, err := ParseHex(hex)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Luminance(); math.Abs(got-want) > 0.0005 {
			t.Errorf("Luminance(%s) = %.4f, want %.4f", hex, got, want)
		}
	}
}

func TestReadableAccent(t *testing.T) {
	bg, _ := ParseHex(PageBackground)
	white, _ := ParseHex(AccentInk)
	tests := []struct {
		name          string
		in            string
		wantCorrected bool
		want          string // "" for any readable colour
	}{
		{"the default stays", "#3b5bdb", false, "#3b5bdb"},
		{"a dark green stays", "#1b5e20", false, "#1b5e20"},
		{"black stays", "#000000", false, "#000000"},
		{"yellow is darkened", "#ffeb3b", true, ""},
		{"white is darkened", "#ffffff", true, ""},
		{"a light blue is darkened", "#74c0fc", true, ""},
		{"a mid orange is darkened", "#fd7e14", true, ""},
		{"not a colour is left alone", "red", false, "red"},
		{"too short", "#fff", false, "#fff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ReadableAccent(tt.in)
			if a.Corrected != tt.wantCorrected {
				t.Fatalf("corrected = %v, want %v (%+v)", a.Corrected, tt.wantCorrected, a)
			}
			if tt.want != "" && a.Color != tt.want {
				t.Fatalf("colour %s, want %s", a.Color, tt.want)
			}
			c, err := ParseHex(a.Color)
			if err != nil {
				return // left alone
			}
			if r := Contrast(c, bg); r < MinAccentContrast {
				t.Errorf("%s on the page: %.2f", a.Color, r)
			}
			if r := Contrast(c, white); r < MinAccentContrast {
				t.Errorf("button text on %s: %.2f", a.Color, r)
			}
			if a.Ink != AccentInk {
				t.Errorf("ink %s", a.Ink)
			}
		})
	}
	// A correction keeps the hue: yellow stays yellowish (red and green
	// over blue), and is the lightest shade that is enough.
	a := ReadableAccent("#ffeb3b")
	c, _ := ParseHex(a.Color)
	if !(c.R > c.B && c.G > c.B) {
		t.Errorf("yellow became %s", a.Color)
	}
	lighter := RGB{uint8(min(255, int(c.R)+4)), uint8(min(255, int(c.G)+4)), uint8(min(255, int(c.B)+1))}
	if Contrast(lighter, bg) >= MinAccentContrast+0.1 {
		t.Errorf("%s is darker than needed", a.Color)
	}
}
