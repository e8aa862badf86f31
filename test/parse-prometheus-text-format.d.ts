// parse-prometheus-text-format ships no types: the prom2json-shaped families it returns.
declare module "parse-prometheus-text-format" {
  export default function parsePrometheusTextFormat(text: string): {
    name: string;
    help: string;
    type: string;
    metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; quantiles?: Record<string, string> }[];
  }[];
}
