// Package billing owns what is credited to customers: coupons, each a credit
// in cents for a number of billing cycles, given to a customer account
// (RealmStorage), with the status it has at a given time (active, used, or
// expired once its cycles have passed).
package billing
