package format

// The error kinds of README "Errors", in the order a runner tries them. They
// are the scenario format's own words: some are spelt like problem codes
// (gen.ProblemCode), but a kind classifies an SDK's typed error, not a
// server's answer (gen/codes_test.go leaves this file alone for that reason).
const (
	KindAuth              = "auth"
	KindNotFound          = "not_found"
	KindBusy              = "busy"
	KindInvalidTransition = "invalid_transition"
	KindSessionPaused     = "session_paused"
	KindSessionEnded      = "session_ended"
	KindSpawnLimit        = "spawn_limit"
	// KindPermissionRequired is a non-streamed turn whose agent asked for
	// permission with no handler set: the SDK's own typed error, no status.
	KindPermissionRequired = "permission_required"
	KindPermissionResolved = "permission_resolved"
	KindTurnEnded          = "turn_ended"
	KindConflict           = "conflict"
	KindTooLarge           = "too_large"
	KindValidation         = "validation"
	KindRateLimited        = "rate_limited"
	KindServer             = "server"
	KindTransport          = "transport"
	KindTimeout            = "timeout"
	// KindUntyped is an error the SDK did not type: always a failure.
	KindUntyped = "untyped"
)

// Kinds lists every kind in that order.
var Kinds = []string{
	KindAuth, KindNotFound, KindBusy, KindInvalidTransition, KindSessionPaused, KindSessionEnded,
	KindSpawnLimit, KindPermissionRequired, KindPermissionResolved, KindTurnEnded, KindConflict, KindTooLarge, KindValidation, KindRateLimited, KindServer,
	KindTransport, KindTimeout, KindUntyped,
}
