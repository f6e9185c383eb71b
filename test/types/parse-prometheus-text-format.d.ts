/** The package ships no types: it parses Prometheus text into prom2json-shaped families. */
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
