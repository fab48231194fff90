package core_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
)

func TestParseModifier(t *testing.T) {
	tests := []struct {
		raw  string
		want core.Cond
		bad  bool
	}{
		{raw: "p1", want: core.Cond{Op: core.OpEq, Values: []string{"p1"}}},
		{raw: "in:p1,p2", want: core.Cond{Op: core.OpIn, Values: []string{"p1", "p2"}}},
		{raw: "nin:p1", want: core.Cond{Op: core.OpNin, Values: []string{"p1"}}},
		{raw: "neq:true", want: core.Cond{Op: core.OpNeq, Values: []string{"true"}}},
		{raw: "gt:5", want: core.Cond{Op: core.OpGt, Values: []string{"5"}}},
		{raw: "gte:5", want: core.Cond{Op: core.OpGte, Values: []string{"5"}}},
		{raw: "lt:a,b", want: core.Cond{Op: core.OpLt, Values: []string{"a,b"}}},
		{raw: "lte:5", want: core.Cond{Op: core.OpLte, Values: []string{"5"}}},
		{raw: "foo:bar", want: core.Cond{Op: core.OpEq, Values: []string{"foo:bar"}}},
		{raw: "neq:a:b", want: core.Cond{Op: core.OpNeq, Values: []string{"a:b"}}},
		{raw: "", bad: true},
		{raw: "in:", bad: true},
		{raw: "neq:", bad: true},
		{raw: "in:a,,b", bad: true},
		{raw: "nin:a,", bad: true},
		{raw: "in:" + strings.Repeat("a,", 1000) + "a", bad: true},
	}
	for _, tt := range tests {
		got, err := core.ParseModifier(tt.raw)
		if tt.bad {
			if core.ErrorKind(err) != core.KindInvalid {
				t.Errorf("%q: err = %v, want invalid", tt.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.raw, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.raw, d)
		}
	}
}

func TestCondMatch(t *testing.T) {
	tests := []struct {
		raw, v string
		want   bool
	}{
		{"a", "a", true}, {"a", "b", false},
		{"neq:a", "b", true}, {"neq:a", "a", false},
		{"in:a,b", "b", true}, {"in:a,b", "c", false},
		{"nin:a,b", "c", true}, {"nin:a,b", "a", false},
		{"gt:b", "c", true}, {"gt:b", "b", false},
		{"gte:b", "b", true}, {"lt:b", "a", true}, {"lte:b", "c", false},
	}
	for _, tt := range tests {
		c, err := core.ParseModifier(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Match(tt.v); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.raw, tt.v, got, tt.want)
		}
	}
}

func FuzzParseModifier(f *testing.F) {
	for _, s := range []string{"", "a", "in:a,b", "nin:", "neq:x", "gt:1", "lte:", "in:,", ":", "in:a,,b", "\xff:in"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := core.ParseModifier(raw)
		if err != nil {
			if core.ErrorKind(err) != core.KindInvalid {
				t.Fatalf("%q: error of kind %s: %v", raw, core.ErrorKind(err), err)
			}
			return
		}
		if len(c.Values) == 0 {
			t.Fatalf("%q: no values", raw)
		}
		for _, v := range c.Values {
			if v == "" {
				t.Fatalf("%q: empty value", raw)
			}
		}
		_ = c.Match(raw)
	})
}
