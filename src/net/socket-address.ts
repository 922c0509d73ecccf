/** A socket address once parsed, whichever syntax it was written in. */
export type SocketAddress =
  | {
      readonly kind: "tcp";
      /** Empty = every interface (listen syntax only). */ readonly host: string;
      readonly port: number;
    }
  | { readonly kind: "unix"; readonly path: string };
