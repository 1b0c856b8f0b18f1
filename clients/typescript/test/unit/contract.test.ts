// The SDK against the contract: problem codes, open enums and frame types come
// from openapi.yaml, through the generated types.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  apiErrorClass,
  BusyError,
  ConflictError,
  eventTypeValues,
  isKnown,
  problemCodeValues,
  ProblemCode,
  sessionStatusValues,
  type Activity,
  type CancelledBy,
  type EventType,
  type KnownProblemCode,
  type SessionStatus,
  type StopReason,
  type ToolCallStatus,
  type TurnStatus,
} from '../../src/index.js';
import type { components } from '../../src/generated/openapi.js';
import { packageDir } from '../helpers/refserver.js';
import { Spec } from '../helpers/spec.js';

const spec = new Spec();
type Schemas = components['schemas'];

// Compile-time checks: each open enum is exactly its contract enum's values plus any string.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Literals<T> = T extends string ? (string extends T ? never : T) : never;
const openEnums: [
  Equal<Literals<SessionStatus>, Schemas['SessionStatus']>,
  Equal<Literals<Activity>, Schemas['Activity']>,
  Equal<Literals<EventType>, Schemas['EventType']>,
  Equal<Literals<ToolCallStatus>, Schemas['ToolCallStatus']>,
  Equal<Literals<StopReason>, Schemas['StopReason']>,
  Equal<Literals<CancelledBy>, Schemas['CancelledBy']>,
  Equal<Literals<TurnStatus>, Schemas['TurnStatus']>,
  Equal<Literals<ProblemCode>, KnownProblemCode>,
  Equal<(typeof ProblemCode)[keyof typeof ProblemCode], KnownProblemCode>,
] = [true, true, true, true, true, true, true, true, true];

describe('the contract, through the generated types', () => {
  it("ProblemCode is the contract's ProblemCode list, constant by constant", () => {
    const listed = spec.enumValues('ProblemCode');
    assert.ok(listed && listed.length > 10, 'openapi.yaml lists the problem codes in ProblemCode');
    assert.deepEqual([...problemCodeValues], listed);
    assert.deepEqual(Object.values(ProblemCode), listed);
    // The constant's name is the code in PascalCase.
    for (const [name, code] of Object.entries(ProblemCode)) {
      assert.equal(name, code.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    }
    assert.equal(ProblemCode.TurnInProgress, 'turn_in_progress');
    assert.ok(Object.isFrozen(ProblemCode));
  });

  it('every listed 409 code the error classes name is a contract code', () => {
    for (const code of problemCodeValues) {
      const cls = apiErrorClass(409, code);
      assert.ok(cls === ConflictError || cls.prototype instanceof ConflictError, code);
    }
    assert.equal(apiErrorClass(409, ProblemCode.TurnQueueFull), BusyError);
    assert.equal(apiErrorClass(409, 'a_code_from_the_future'), ConflictError);
  });

  it('every open response enum is generated open, with its known values kept', () => {
    const open = spec.openMembers();
    assert.ok(open.length >= 20, `only ${open.length} open members found: the walk is broken`);
    const generated = readFileSync(join(packageDir, 'src', 'generated', 'openapi.ts'), 'utf8');
    // `string | <Enum>` collapses to string: none may be left.
    assert.doesNotMatch(generated, /string \| components\["schemas"\]\["\w+"\]/);
    const opened = generated.match(/components\["schemas"\]\["\w+"\] \| \(string & \{\}\)/g) ?? [];
    assert.equal(opened.length, open.length, `open members in openapi.yaml: ${open.join(', ')}`);
  });

  it('the enum value lists are the contract enums, and isKnown tells the values apart', () => {
    assert.deepEqual([...sessionStatusValues], spec.enumValues('SessionStatus'));
    assert.deepEqual([...eventTypeValues], spec.enumValues('EventType'));
    const t: EventType = 'hologram'; // a type a newer server might send still type-checks
    assert.equal(isKnown(eventTypeValues, t), false);
    assert.equal(isKnown(eventTypeValues, 'tool_call'), true);
    assert.equal(isKnown(eventTypeValues, undefined), false);
  });

  it('the compile-time checks hold', () => {
    assert.ok(openEnums.every((x) => x === true));
  });

  it('the frame types the stream reader knows are the contract frames', () => {
    const source = readFileSync(join(packageDir, 'src', 'turn.ts'), 'utf8');
    const mapping = spec.schemas['TurnStreamFrame']?.['discriminator'] as { mapping: Record<string, string> };
    for (const [event, ref] of Object.entries(mapping.mapping)) {
      const schema = ref.replace('#/components/schemas/', '');
      assert.match(source, new RegExp(`Frames\\['${schema}'\\]\\['event'\\] = '${event.replace('.', '\\.')}'`), `${schema} (${event})`);
    }
  });
});
