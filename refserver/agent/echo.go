package agent

import (
	"context"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

type echo struct{}

// EchoPrefixOption is the echo agent's one option: a string put before
// the echoed text (none by default), so agent options can be tried.
const EchoPrefixOption = "prefix"

// Echo returns the echo agent: each turn emits one text event whose content
// is the prompt, after the session's prefix option, and ends with end_turn.
// Its usage is deterministic: input and output tokens are both the prompt's
// number of words.
func Echo() Agent { return echo{} }

func (echo) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "echo", Kind: gen.AgentKindEcho,
		Description: "Answers every prompt with one text event holding the prompt.",
		Options: []gen.AgentOption{{Name: EchoPrefixOption, Type: gen.AgentOptionTypeString,
			Description: "Put before the echoed text."}}}
}

// Its one event is the outcome's (Outcome.Events): stored with the turn's
// end, so an echo turn costs the server two writes, not three.
func (echo) Run(ctx context.Context, in Input, _ Emit) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	words := int64(len(strings.Fields(in.Prompt)))
	prefix, _ := in.Options[EchoPrefixOption].(string)
	return Outcome{
		StopReason: gen.StopReasonEndTurn,
		Usage:      gen.Usage{InputTokens: &words, OutputTokens: &words},
		Events:     []gen.ScriptEvent{{Type: gen.EventTypeText, Content: prefix + in.Prompt}},
	}, nil
}
