package login

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"hostdeck/core"
)

// This file holds API keys (core.TokenKey): long-lived named tokens a user
// makes for its scripts, which act as that user. A key is a token like any
// other (tokens.go: its secret stored as its SHA-256, looked up through the
// cache by LoginToken), with a number, a name, a description and a hint to
// show it masked. It has no idle timeout and, in practice, no expiry; it ends
// when it is deleted or its user is disabled or deleted, at once in this
// process (CredentialsChanged) and within CachedFor on other replicas. A new
// password does not end it: scripts keep working, and a user who fears a key
// leaked deletes it.

// keyLifetime is an API key's expiry, far enough never to be met.
const keyLifetime = 100 * 365 * 24 * time.Hour

// keyHintLen is how many characters of a key's secret its hint keeps.
const keyHintLen = 4

// MaxKeyDescriptionLen bounds a key's description.
const MaxKeyDescriptionLen = 1024

// keySecret is 20 random bytes in lowercase hex: 40 characters, the form of
// the tokens the admin APIs that take "Authorization: Token …" hand out.
func keySecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// KeyFilter selects API keys; nil fields do not filter.
type KeyFilter struct {
	Name        *string // exact name
	Description *string // exact description
	// Value is a whole secret: it selects the key whose secret it is (none
	// when it is no key's).
	Value *string
	core.Page
}

func keyNotFound(id string) error { return core.NotFound("key", id) }

// checkKeyText applies the text rules to a key's name and description.
func checkKeyText(name, description *string) error {
	if err := core.CheckOptional(name, func(v string) error { return core.CheckName("name", v, core.MaxNameLen) }); err != nil {
		return err
	}
	return core.CheckOptional(description, func(v string) error {
		return core.CheckText("description", v, MaxKeyDescriptionLen)
	})
}

// CreateKey makes an API key of the actor in ctx (any signed-in user), named
// name, and returns it with its secret, which is shown this once. An actor
// that is no user (the operator) is KindForbidden; a name that is empty, too
// long or holds control characters, or a description past
// MaxKeyDescriptionLen, is KindInvalid. Audited as token.create, without the
// secret.
func (s *Service) CreateKey(ctx context.Context, name, description string) (*core.Token, string, error) {
	a := core.ActorFrom(ctx)
	if a.UserID == "" {
		return nil, "", core.Errorf(core.KindForbidden, "only a user may make API keys")
	}
	if err := checkKeyText(&name, &description); err != nil {
		return nil, "", err
	}
	k, err := s.tokenKind(core.TokenKey)
	if err != nil {
		return nil, "", err
	}
	u := &core.User{ID: a.UserID}
	t, sec := s.newToken(core.TokenKey, k, u, nil)
	t.Name, t.Description, t.Hint = name, description, sec[:keyHintLen]
	err = core.InTx(ctx, s.store, func(q Queries) error {
		u, err := q.GetUser(ctx, a.UserID)
		if core.ErrorKind(err) == core.KindNotFound || err == nil && u.Disabled {
			return core.Errorf(core.KindForbidden, "only an enabled user may make API keys")
		}
		if err != nil {
			return err
		}
		t.UserName = u.Name
		if err := q.CreateToken(ctx, t); err != nil {
			return err
		}
		return s.Audit(ctx, q, k.audit, k.auditType, t.ID, map[string]any{"user_id": t.UserID, "number": t.Number, "name": t.Name})
	})
	if err != nil {
		return nil, "", err
	}
	return t, sec, nil
}

// ListKeys lists API keys, oldest first unless f sorts otherwise (by id,
// name, number, created_at): an admin (token.view on every token) sees every
// user's, anyone else its own.
func (s *Service) ListKeys(ctx context.Context, f KeyFilter) ([]*core.Token, int, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, 0, err
	}
	tf := core.TokenFilter{Kind: core.Ptr(core.TokenKey), Name: f.Name, Description: f.Description, Page: f.Page}
	if !p.Can(core.ActionTokenView, core.Resource{Type: core.ResourceToken}) {
		id := core.ActorFrom(ctx).UserID
		if id == "" {
			return nil, 0, core.Errorf(core.KindForbidden, "only a user has API keys")
		}
		tf.UserID = &id
	}
	if f.Value != nil {
		if len(*f.Value) > maxSecretLen {
			return []*core.Token{}, 0, nil // no secret is this long
		}
		tf.Hash = core.Ptr(core.TokenHash(*f.Value))
	}
	if err := tf.Check(); err != nil {
		return nil, 0, err
	}
	return s.store.ListTokens(ctx, tf)
}

// GetKey returns an API key to its user or an admin; another user's key, an
// unknown id and a token that is no key are KindNotFound.
func (s *Service) GetKey(ctx context.Context, id string) (*core.Token, error) {
	return s.key(ctx, s.store, id, core.ActionTokenView)
}

// GetKeyByNumber is GetKey of the key numbered n.
func (s *Service) GetKeyByNumber(ctx context.Context, n int64) (*core.Token, error) {
	id, err := core.IDOfNumber(ctx, s.store, core.NumberToken, "key", n)
	if err != nil {
		return nil, err
	}
	return s.GetKey(ctx, id)
}

// key reads the key id for the actor's action on it: one it may not take on
// the key is KindNotFound, as a key it may not see is.
func (s *Service) key(ctx context.Context, q Queries, id string, action core.Action) (*core.Token, error) {
	if !core.ValidID(id) {
		return nil, keyNotFound(id)
	}
	t, err := q.GetToken(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && t.Kind != core.TokenKey {
		return nil, keyNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx, action, core.Resource{Type: core.ResourceToken, ID: t.ID, Owner: t.UserID}); err != nil {
		return nil, keyNotFound(id)
	}
	return t, nil
}

// UpdateKey renames an API key or changes its description (the fields that
// are set): its user or an admin, who may also delete it (token.revoke).
// Audited as token.update.
func (s *Service) UpdateKey(ctx context.Context, id string, name, description *string) (*core.Token, error) {
	if err := checkKeyText(name, description); err != nil {
		return nil, err
	}
	var t *core.Token
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := s.key(ctx, q, id, core.ActionTokenRevoke); err != nil {
			return err
		}
		var err error
		if t, err = q.UpdateToken(ctx, id, core.TokenUpdate{Name: name, Description: description}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "token.update", "token", id, map[string]any{"user_id": t.UserID, "name": name != nil, "description": description != nil})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteKey deletes an API key (its user or an admin: token.revoke); it is
// refused from then on, at once. Audited as token.delete.
func (s *Service) DeleteKey(ctx context.Context, id string) error {
	defer s.CredentialsChanged()
	return core.InTx(ctx, s.store, func(q Queries) error {
		t, err := s.key(ctx, q, id, core.ActionTokenRevoke)
		if err != nil {
			return err
		}
		if err := q.DeleteToken(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "token.delete", "token", id, map[string]any{"user_id": t.UserID, "number": t.Number, "name": t.Name})
	})
}
