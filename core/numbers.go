package core

import (
	"context"
	"strconv"
)

// Numeric ids. Every record has a UUID; the records an admin API names by small
// integers (users, groups, servers, applications, product lines, links, keys)
// also have a number, given by the store when the record is created: unique
// among the records of its kind and never reused, 0 for none.

// NumberKind is a kind of numbered record.
type NumberKind string

const (
	NumberUser        NumberKind = "user"
	NumberGroup       NumberKind = "group"
	NumberServer      NumberKind = "server"
	NumberApplication NumberKind = "application"
	NumberProductLine NumberKind = "product_line"
	NumberLink        NumberKind = "link"
	NumberToken       NumberKind = "token"
)

// NumberReader finds a record by its number.
type NumberReader interface {
	// IDByNumber returns the id of the record of kind with number n;
	// KindNotFound when there is none.
	IDByNumber(ctx context.Context, kind NumberKind, n int64) (string, error)
}

// IDOfNumber is the id of the record of kind numbered n: a number that is not
// positive, or names no record, is KindNotFound naming what (its kind as the
// caller calls it) and n.
func IDOfNumber(ctx context.Context, q NumberReader, kind NumberKind, what string, n int64) (string, error) {
	notFound := NotFound(what, strconv.FormatInt(n, 10))
	if n <= 0 {
		return "", notFound
	}
	id, err := q.IDByNumber(ctx, kind, n)
	if ErrorKind(err) == KindNotFound {
		return "", notFound
	}
	return id, err
}

// IDOfNumber is the id of the record of kind numbered n (the package
// function IDOfNumber's answers). It decides nothing about access: the use
// case that then reads the record does.
func (s *Service) IDOfNumber(ctx context.Context, kind NumberKind, what string, n int64) (string, error) {
	return IDOfNumber(ctx, s.store, kind, what, n)
}
