package core

import (
	"slices"
	"strings"
)

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

// Bounds of what a client may give a list filter, so that every query stays
// small and no database refuses one (SQLite fails a LIKE pattern over 50,000
// bytes). MaxFilterLen is longer than any name, e-mail address or id hostdeck
// keeps, so no filter that could match is refused.
const (
	MaxFilterLen    = 256  // bytes of one value (each member of an in: list)
	MaxFilterValues = 1000 // members of an in: or nin: list
)

// CheckFilterValue is the rule on one filter value: at most MaxFilterLen bytes,
// else KindInvalid about field. The message does not name field: each face names
// the parameter its own way.
func CheckFilterValue(field, v string) error {
	if len(v) > MaxFilterLen {
		return Invalid(field, "a filter value takes at most %d bytes (this one has %d)", MaxFilterLen, len(v))
	}
	return nil
}

// CheckCond applies CheckFilterValue to each value of c and bounds their number
// (MaxFilterValues).
func CheckCond(field string, c Cond) error {
	if len(c.Values) > MaxFilterValues {
		return Invalid(field, "%s: takes at most %d values (this one has %d)", c.Op, MaxFilterValues, len(c.Values))
	}
	for _, v := range c.Values {
		if err := CheckFilterValue(field, v); err != nil {
			return err
		}
	}
	return nil
}

// FilterField is one value a client may have given a list filter, named as the
// faces name the parameter: a plain value or a condition with a modifier, and
// the values it may take when they are enumerated.
type FilterField struct {
	name    string
	val     *string
	cond    *Cond
	allowed []string
}

// FilterValue is a plain value of a list filter, named name.
func FilterValue[S ~string](name string, v *S) FilterField {
	if v == nil {
		return FilterField{name: name}
	}
	s := string(*v)
	return FilterField{name: name, val: &s}
}

// oneOf is FilterValue for a field whose values are enumerated: asking for one that
// no record can have is a mistake to tell the client of, not an empty list.
func oneOf[S ~string](name string, v *S, allowed []S) FilterField {
	f := FilterValue(name, v)
	for _, a := range allowed {
		f.allowed = append(f.allowed, string(a))
	}
	return f
}

// FilterCond is a condition with a modifier of a list filter, named name.
func FilterCond(name string, c *Cond) FilterField { return FilterField{name: name, cond: c} }

// CheckFilter is what every list use case applies to its filter before the
// store sees it: the bounds above, on each field that is set, and the values of
// an enumerated field (KindInvalid naming them).
func CheckFilter(fields ...FilterField) error {
	for _, f := range fields {
		var err error
		switch {
		case f.val != nil:
			err = CheckFilterValue(f.name, *f.val)
			if err == nil && f.allowed != nil && !slices.Contains(f.allowed, *f.val) {
				err = Invalid(f.name, "unknown value %q; one of %s", *f.val, strings.Join(f.allowed, ", "))
			}
		case f.cond != nil:
			err = CheckCond(f.name, *f.cond)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// The client-given fields of each list filter. Ids lists (IDs, MachineIDs) and
// filters no face lets a client set (InstanceFilter, ImageFilter,
// AssignmentFilter) are core's own and have none.

// Check refuses a client-given value of f that is too long, holds control
// characters or is not one the field can take.
func (f ClientFilter) Check() error {
	return CheckFilter(FilterValue("server_id", f.ServerID), oneOf("status", f.Status, ClientStatuses), FilterValue("name", f.Name), FilterValue("email", f.Email))
}

// Check takes the names of the runtimes configured, the values Runtime may take.
func (f ServerFilter) Check(runtimes []string) error {
	return CheckFilter(oneOf("status", f.Status, ServerStatuses), oneOf("runtime", f.Runtime, runtimes),
		FilterValue("name", f.Name), FilterValue("kind", f.Kind))
}

// check takes the task kinds there are, the values Kind may take.
func (f TaskFilter) check(kinds []string) error {
	return CheckFilter(oneOf("kind", f.Kind, kinds), oneOf("status", f.Status, TaskStatuses), FilterValue("target_type", f.TargetType),
		FilterValue("target_id", f.TargetID), FilterValue("creator", f.Creator))
}

func (f AuditFilter) check() error {
	return CheckFilter(FilterValue("actor", f.Actor), FilterValue("action", f.Action), FilterValue("target_type", f.TargetType),
		FilterValue("target_id", f.TargetID), FilterValue("detail", f.DetailContains),
		FilterCond("actor", &Cond{Op: OpIn, Values: f.Actors}), FilterCond("action", &Cond{Op: OpIn, Values: f.Actions}),
		FilterCond("target_type", &Cond{Op: OpIn, Values: f.TargetTypes}), FilterCond("target_id", &Cond{Op: OpIn, Values: f.TargetIDs}))
}

// Check refuses a client-given value of f that is too long, holds control
// characters or is not one the field can take.
func (f UserFilter) Check() error {
	return CheckFilter(FilterValue("domain_id", f.DomainID), FilterValue("name", f.Name), FilterValue("project_id", f.ProjectID),
		FilterValue("email", f.Email), FilterValue("phone", f.Phone))
}

// Check refuses a client-given value of f that is too long, holds control
// characters or is not one the field can take.
func (f GroupFilter) Check() error {
	return CheckFilter(FilterValue("domain_id", f.DomainID), FilterValue("name", f.Name))
}

// Check refuses a client-given value of f that is too long, holds control
// characters or is not one the field can take.
func (f TokenFilter) Check() error {
	return CheckFilter(FilterValue("kind", f.Kind), FilterValue("user_id", f.UserID), FilterValue("name", f.Name),
		FilterValue("description", f.Description), FilterValue("hash", f.Hash))
}

// Check refuses a client-given value of f that is too long, holds control
// characters or is not one the field can take.
func (f CredentialFilter) Check() error {
	return CheckFilter(FilterValue("user_id", f.UserID), FilterValue("type", f.Type))
}

// ParseModifier parses a filter value with an optional modifier prefix: "p1" (equal),
// "neq:p1", "in:p1,p2", "nin:p1,p2", "gt:", "gte:", "lt:", "lte:". A prefix that is
// not a known operator is part of the value ("a:b" means equal to "a:b"). An empty
// value, an empty member of a list, too many members (MaxFilterValues) or a value
// too long (MaxFilterLen) is KindInvalid.
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
		c := Cond{Op: op, Values: []string{val}}
		if err := CheckCond("", c); err != nil {
			return Cond{}, err
		}
		return c, nil
	}
	if n := strings.Count(val, ",") + 1; n > MaxFilterValues {
		return Cond{}, Errorf(KindInvalid, "%s: takes at most %d values (this one has %d)", op, MaxFilterValues, n)
	}
	c := Cond{Op: op, Values: strings.Split(val, ",")}
	for _, v := range c.Values {
		if v == "" {
			return Cond{}, Errorf(KindInvalid, "filter %q has an empty value in its list", raw)
		}
	}
	if err := CheckCond("", c); err != nil {
		return Cond{}, err
	}
	return c, nil
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

// BoolCond turns a condition on a boolean (its values "true"/"false", any case)
// into the answer it allows: nil when both values pass, else the one that does;
// ok is false when none does. Ordered operators are KindInvalid on booleans.
func BoolCond(field string, c Cond) (want *bool, ok bool, err error) {
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
		return Ptr(true), true, nil
	case f:
		return Ptr(false), true, nil
	}
	return nil, false, nil
}

// CheckEqualityCond rejects the ordered modifiers (gt, gte, lt, lte) on a filter
// of ids or names: their order would differ between databases' collations.
func CheckEqualityCond(field string, c *Cond) error {
	if c == nil {
		return nil
	}
	switch c.Op {
	case OpEq, OpNeq, OpIn, OpNin:
		return nil
	}
	return Invalid(field, "%s takes no %s: modifier (only neq:, in:, nin:)", field, c.Op)
}
