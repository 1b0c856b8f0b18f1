package refserver

import (
	"net/http"
	"strconv"
)

// rawResponse is a JSON answer whose body is already encoded: what
// idempotent operations store and replay byte for byte. It satisfies every
// operation's response interface.
type rawResponse struct {
	status int
	body   []byte
	// replayed marks an answer repeated for a reused Idempotency-Key.
	replayed bool
}

func (r rawResponse) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(r.body)))
	if r.replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(r.status)
	_, err := w.Write(r.body)
	return err
}

func (r rawResponse) VisitAddArtifactResponse(w http.ResponseWriter) error       { return r.write(w) }
func (r rawResponse) VisitAnswerPermissionResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r rawResponse) VisitCancelTurnAtResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r rawResponse) VisitAddLogEntryResponse(w http.ResponseWriter) error       { return r.write(w) }
func (r rawResponse) VisitCancelTurnResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r rawResponse) VisitCloseSessionResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r rawResponse) VisitContinueSessionResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r rawResponse) VisitCreateSessionResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r rawResponse) VisitEndSessionResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r rawResponse) VisitGetCapabilitiesResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r rawResponse) VisitGetFileResponse(w http.ResponseWriter) error           { return r.write(w) }
func (r rawResponse) VisitGetHandoffContextResponse(w http.ResponseWriter) error { return r.write(w) }
func (r rawResponse) VisitGetHealthResponse(w http.ResponseWriter) error         { return r.write(w) }
func (r rawResponse) VisitGetReplayContextResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r rawResponse) VisitGetSessionResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r rawResponse) VisitGetTurnResponse(w http.ResponseWriter) error           { return r.write(w) }
func (r rawResponse) VisitHandoffSessionResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r rawResponse) VisitListArtifactsResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r rawResponse) VisitListChildrenResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r rawResponse) VisitListEventsResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r rawResponse) VisitListLogEntriesResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r rawResponse) VisitListSessionsResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r rawResponse) VisitListTurnsResponse(w http.ResponseWriter) error         { return r.write(w) }
func (r rawResponse) VisitPauseSessionResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r rawResponse) VisitReplaySessionResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r rawResponse) VisitResumeSessionResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r rawResponse) VisitSendTurnResponse(w http.ResponseWriter) error          { return r.write(w) }
func (r rawResponse) VisitSpawnChildResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r rawResponse) VisitStreamTurnResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r rawResponse) VisitUpdateContextResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r rawResponse) VisitUploadFileResponse(w http.ResponseWriter) error        { return r.write(w) }
