// The Worker as this project sees it: a fetch handler. (test/env.d.ts types it from src, which
// the generated client must not depend on: it knows the API from the document alone.)
declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: { default: ExportedHandler };
    }
  }
}
export {};
