// Package paging turns the API's cursor-paginated lists into iterators.
package paging

import (
	"context"
	"iter"

	"github.com/agentsession/agentsession"
)

// Fetch gets the page that starts at cursor ("" for the first page) and
// returns its items and the next page's cursor ("" after the last page).
type Fetch[T any] func(ctx context.Context, cursor string) (items []T, next string, err error)

// Seq yields every item of every page, fetching a page only when the
// previous one has been consumed. An error is yielded once, with the zero T,
// and ends the sequence; so does the caller breaking out of the loop.
func Seq[T any](ctx context.Context, fetch Fetch[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cursor := ""
		for {
			items, next, err := fetch(ctx, cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if next == cursor {
				yield(zero, agentsession.ErrCursorLoop)
				return
			}
			cursor = next
		}
	}
}

// Ptr returns a pointer to v, or nil for the zero value: the generated
// *Params structs take optional query parameters as pointers.
func Ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
