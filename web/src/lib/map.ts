// The world map: Natural Earth country shapes (world-atlas TopoJSON, shipped with the app as a
// static asset, fetched from our own origin), drawn by ECharts' map series. Loaded lazily.
import { feature } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import codes from 'i18n-iso-countries/codes.json';
import worldUrl from 'world-atlas/countries-110m.json?url';
import { echarts } from './charts';
import { MapChart } from 'echarts/charts';
import { VisualMapComponent } from 'echarts/components';

echarts.use([MapChart, VisualMapComponent]);

let ready: Promise<void> | null = null;

/** ISO 3166-1 numeric ("826") -> alpha-2 ("GB") */
const numericToAlpha2 = new Map<string, string>((codes as string[][]).map((c) => [c[2], c[0]]));

export function registerWorld(): Promise<void> {
  if (!ready) {
    ready = fetch(worldUrl)
      .then((r) => {
        if (!r.ok) throw new Error(`map shapes: HTTP ${r.status}`);
        return r.json();
      })
      .then((topo: Topology) => {
        const fc = feature(topo, topo.objects.countries as GeometryCollection) as unknown as GeoJSON.FeatureCollection;
        for (const f of fc.features) {
          const a2 = numericToAlpha2.get(String(f.id ?? '').padStart(3, '0'));
          // the region name ECharts matches data against: the alpha-2 code the API uses
          f.properties = { ...(f.properties ?? {}), name: a2 ?? `n${f.id}`, label: (f.properties as { name?: string })?.name };
        }
        fc.features = fc.features.filter((f) => (f.properties as { label?: string }).label !== 'Antarctica');
        echarts.registerMap('world', fc as never);
      });
    ready.catch(() => {
      ready = null;
    });
  }
  return ready;
}

export { echarts };
