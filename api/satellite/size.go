package satellite

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// Byte units the limit endpoints accept (case-insensitive) and render.
var (
	decimalUnits = []struct {
		name string
		size int64
	}{{"EB", 1e18}, {"PB", 1e15}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}}
	binaryUnits = []struct {
		name string
		size int64
	}{{"EiB", 1 << 60}, {"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
)

// ParseSize reads a size such as "1TiB", "50GB", "1.5 MB", "1000" (bytes) or
// "-1GB" (negative: the caller refuses it). Units are B, KB…EB (powers of
// 1000) and KiB…EiB (powers of 1024), in any case.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty size")
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-' || s[i] == '+') {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	if num == "" {
		return 0, fmt.Errorf("size %q has no number", s)
	}
	mult := int64(1)
	if unit != "" && !strings.EqualFold(unit, "B") {
		found := false
		for _, u := range append(decimalUnits[:len(decimalUnits):len(decimalUnits)], binaryUnits...) {
			if strings.EqualFold(unit, u.name) {
				mult, found = u.size, true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("size %q has an unknown unit %q", s, unit)
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("size %q is not a number", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	n := new(big.Int).Quo(r.Num(), r.Denom()) // truncated toward zero: whole bytes
	if !n.IsInt64() {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n.Int64(), nil
}

// FormatSize renders bytes as the document shows them: a size that is a whole
// number of thousands in decimal units with two decimals ("50.00 GB"), any
// other in binary units with one ("1.0 TiB"); under one unit in bytes ("0 B").
func FormatSize(n int64) string {
	abs := n
	if abs < 0 {
		if abs == math.MinInt64 {
			abs = math.MaxInt64
		} else {
			abs = -abs
		}
	}
	if n%1000 == 0 {
		for _, u := range decimalUnits {
			if abs >= u.size {
				return fmt.Sprintf("%.2f %s", float64(n)/float64(u.size), u.name)
			}
		}
	} else {
		for _, u := range binaryUnits {
			if abs >= u.size {
				return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
			}
		}
	}
	return fmt.Sprintf("%d B", n)
}
