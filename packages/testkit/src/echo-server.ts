import {
  closeServer,
  echoReply,
  listenOnLoopback,
  type RecordedRequest,
  readRequest,
  writeReply,
} from './recording.js';

/** A plain server on another port of 127.0.0.1 — another origin — that answers every request with an echo. */
export interface EchoServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  url(path: string): string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Requests that carried an `authorization` or `dpop` header: must stay empty. */
  credentialed(): RecordedRequest[];
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const requests: RecordedRequest[] = [];
  let origin = '';
  const { server, origin: listening } = await listenOnLoopback((message, response) => {
    readRequest(message, origin).then(
      (record) => {
        requests.push(record);
        record.status = 200;
        writeReply(response, echoReply(record));
      },
      () => response.destroy(),
    );
  });
  origin = listening;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    requests,
    credentialed: () =>
      requests.filter(
        (record) => record.headers.authorization !== undefined || record.headers.dpop !== undefined,
      ),
    close: () => closeServer(server),
  };
}
