/** An AgentScript prompt for the `scripted` agent: `steps` text events, each after `delayMs`. */
export function script(texts: string[], delayMs = 0, stop = 'end_turn'): string {
  return JSON.stringify({
    steps: texts.map((t) => ({ delay_ms: delayMs, event: { type: 'text', content: t } })),
    stop_reason: stop,
  });
}
