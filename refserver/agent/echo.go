package agent

import (
	"context"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

type echo struct{}

// Echo returns the echo agent: each turn emits one text event whose content
// is the prompt and ends with end_turn. Its usage is deterministic: input and
// output tokens are both the prompt's number of words.
func Echo() Agent { return echo{} }

func (echo) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "echo", Kind: gen.AgentKindEcho,
		Description: "Answers every prompt with one text event holding the prompt."}
}

func (echo) Run(ctx context.Context, in Input, emit Emit) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	if err := emit(gen.ScriptEvent{Type: gen.EventTypeText, Content: in.Prompt}); err != nil {
		return Outcome{}, err
	}
	words := int64(len(strings.Fields(in.Prompt)))
	return Outcome{
		StopReason: gen.StopReasonEndTurn,
		Usage:      gen.Usage{InputTokens: &words, OutputTokens: &words},
	}, nil
}
