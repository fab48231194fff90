package httpx

import (
	"context"
	"net/http"
)

func contextWithRecord(r *http.Request, rec *record) context.Context {
	return context.WithValue(r.Context(), recordKey{}, rec)
}
