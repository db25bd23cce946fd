import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.History;
interface ProtoJson {
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null;
}

// historyFromJSON of @temporalio/common fails here with "type must be a Type": npm installs three
// copies of protobufjs 8 (grpc's proto-loader holds the top-level 7), and common's copy does not
// accept the types of @temporalio/proto's. This parses with the copy the types come from.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] })) as ProtoJson;

/** A history in the proto JSON that the Temporal CLI and Web UI export. */
export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(temporal.api.history.v1.History, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a workflow history');
  return history;
}
