package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func fmtAny(v any) string { return fmt.Sprint(v) }

func secondsOf(n int64) *time.Duration { d := time.Duration(n) * time.Second; return &d }

func tokNow() time.Time { return time.Now() }
