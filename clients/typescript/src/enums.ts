// The known values of the contract's enums, generated from openapi.yaml
// (openapi-typescript's `enumValues`). A response member may carry a value a
// newer server added: `isKnown(eventTypeValues, e.type)` tells them apart.
export {
  activityValues,
  agentKindValues,
  agentOptionTypeValues,
  artifactActionValues,
  busyPolicyValues,
  cancelledByValues,
  endReasonValues,
  endStatusValues,
  eventTypeValues,
  healthStatusValues,
  lifecycleEventTypeValues,
  logEntryTypeValues,
  logOrderValues,
  permissionOptionKindValues,
  permissionOutcomeValues,
  permissionStatusValues,
  problemCodeValues,
  sessionStatusValues,
  stopReasonValues,
  toolCallStatusValues,
  turnStatusValues,
} from './generated/openapi.js';

/** Whether `value` is one of `known` (an enum's generated values); narrows it to the known literals. */
export function isKnown<T extends string>(known: readonly T[], value: string | undefined): value is T {
  return value !== undefined && (known as readonly string[]).includes(value);
}
