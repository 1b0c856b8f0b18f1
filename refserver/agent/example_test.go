package agent_test

import (
	"context"
	"fmt"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
)

// A scripted turn: the prompt is an AgentScript.
func ExampleScripted() {
	prompt := `{"steps":[
		{"event":{"type":"thinking","content":"Looking at the diff."}},
		{"delay_ms":10,"event":{"type":"text","content":"Looks good."}}
	],"stop_reason":"end_turn"}`
	out, err := agent.Scripted().Run(context.Background(), agent.Input{Prompt: prompt}, func(e gen.ScriptEvent) error {
		fmt.Printf("%s: %s\n", e.Type, e.Content)
		return nil
	})
	fmt.Println(out.StopReason, err)
	// Output:
	// thinking: Looking at the diff.
	// text: Looks good.
	// end_turn <nil>
}

// A registry with the built-in agents and one fixed script.
func ExampleRegistry() {
	r := agent.Default()
	script, _ := agent.ParseScript([]byte(`{"steps":[],"stop_reason":"refusal"}`))
	if err := r.Register(agent.NewScript("refuser", "Refuses everything.", script)); err != nil {
		panic(err)
	}
	for _, info := range r.List() {
		fmt.Println(info.Name, info.Kind)
	}
	// Output:
	// echo echo
	// scripted scripted
	// refuser scripted
}
