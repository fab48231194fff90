package core

import "strings"

// Op is a filter modifier of the OpenStack API filtering guideline, as spec 001's
// "parameters that support modifiers" take them (?project_id=in:p1,p2).
type Op string

const (
	OpEq  Op = "eq" // no prefix: the value as given
	OpNeq Op = "neq"
	OpIn  Op = "in"
	OpNin Op = "nin"
	OpGt  Op = "gt"
	OpGte Op = "gte"
	OpLt  Op = "lt"
	OpLte Op = "lte"
)

// Cond is one parsed filter: an operator and its values (several for in and nin,
// exactly one otherwise).
type Cond struct {
	Op     Op
	Values []string
}

// maxCondValues bounds the values of in: and nin: so that a query stays small.
const maxCondValues = 1000

// ParseModifier parses a filter value with an optional modifier prefix: "p1" (equal),
// "neq:p1", "in:p1,p2", "nin:p1,p2", "gt:", "gte:", "lt:", "lte:". A prefix that is
// not a known operator is part of the value ("a:b" means equal to "a:b"). An empty
// value, an empty member of a list, or too many members is KindInvalid.
func ParseModifier(raw string) (Cond, error) {
	op, val := OpEq, raw
	if p, rest, ok := strings.Cut(raw, ":"); ok {
		switch Op(p) {
		case OpNeq, OpIn, OpNin, OpGt, OpGte, OpLt, OpLte:
			op, val = Op(p), rest
		}
	}
	if val == "" {
		return Cond{}, Errorf(KindInvalid, "filter %q has no value", raw)
	}
	if op != OpIn && op != OpNin {
		return Cond{Op: op, Values: []string{val}}, nil
	}
	parts := strings.Split(val, ",")
	if len(parts) > maxCondValues {
		return Cond{}, Errorf(KindInvalid, "filter %s: takes at most %d values", op, maxCondValues)
	}
	for _, v := range parts {
		if v == "" {
			return Cond{}, Errorf(KindInvalid, "filter %q has an empty value in its list", raw)
		}
	}
	return Cond{Op: op, Values: parts}, nil
}

// Match reports whether v satisfies c; ordered operators compare strings.
func (c Cond) Match(v string) bool {
	switch c.Op {
	case OpEq:
		return len(c.Values) > 0 && v == c.Values[0]
	case OpNeq:
		return len(c.Values) > 0 && v != c.Values[0]
	case OpIn, OpNin:
		in := false
		for _, x := range c.Values {
			in = in || x == v
		}
		return in == (c.Op == OpIn)
	case OpGt:
		return len(c.Values) > 0 && v > c.Values[0]
	case OpGte:
		return len(c.Values) > 0 && v >= c.Values[0]
	case OpLt:
		return len(c.Values) > 0 && v < c.Values[0]
	case OpLte:
		return len(c.Values) > 0 && v <= c.Values[0]
	}
	return false
}

// boolCond turns a condition on a boolean (its values "true"/"false", any case)
// into the answer it allows: nil when both values pass, else the one that does;
// ok is false when none does. Ordered operators are KindInvalid on booleans.
func boolCond(field string, c Cond) (want *bool, ok bool, err error) {
	switch c.Op {
	case OpGt, OpGte, OpLt, OpLte:
		return nil, false, Invalid(field, "%s does not take %s:", field, c.Op)
	}
	for i, v := range c.Values {
		switch strings.ToLower(v) {
		case "true", "1":
			c.Values[i] = "true"
		case "false", "0":
			c.Values[i] = "false"
		default:
			return nil, false, Invalid(field, "%s must be true or false", field)
		}
	}
	t, f := c.Match("true"), c.Match("false")
	switch {
	case t && f:
		return nil, true, nil
	case t:
		return ptr(true), true, nil
	case f:
		return ptr(false), true, nil
	}
	return nil, false, nil
}
