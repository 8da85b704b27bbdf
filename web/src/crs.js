// GCJ-02 (the obfuscated datum of AMap/Tencent/Tianditu-in-GCJ tiles), ported from
// gis_core/spatial/crs.py so the console can put WGS84 data on a GCJ-02 basemap and turn a click
// on such a map back into WGS84. Same constants, same China rectangle, same inverse by
// fixed-point iteration to 1e-9 degrees (tests/web compares this port with the Python).

const A = 6378245.0; // Krasovsky 1940, as the GCJ-02 definition uses it
const EE = 0.00669342162296594323;
const INVERSE_TOL = 1e-9;
const INVERSE_MAX_ITER = 30;

export function inChina(lon, lat) {
  return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

function offset(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  const pi = Math.PI;
  const common = ((20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0) / 3.0;
  let dlat =
    -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) +
    common +
    ((20.0 * Math.sin(y * pi) + 40.0 * Math.sin((y / 3.0) * pi)) * 2.0) / 3.0 +
    ((160.0 * Math.sin((y / 12.0) * pi) + 320.0 * Math.sin((y * pi) / 30.0)) * 2.0) / 3.0;
  let dlon =
    300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) +
    common +
    ((20.0 * Math.sin(x * pi) + 40.0 * Math.sin((x / 3.0) * pi)) * 2.0) / 3.0 +
    ((150.0 * Math.sin((x / 12.0) * pi) + 300.0 * Math.sin((x / 30.0) * pi)) * 2.0) / 3.0;
  const radlat = (lat / 180.0) * pi;
  const magic = 1.0 - EE * Math.sin(radlat) ** 2;
  const sqrtmagic = Math.sqrt(magic);
  dlat = (dlat * 180.0) / (((A * (1.0 - EE)) / (magic * sqrtmagic)) * pi);
  dlon = (dlon * 180.0) / ((A / sqrtmagic) * Math.cos(radlat) * pi);
  return [dlon, dlat];
}

/** WGS84 -> GCJ-02 ([lon, lat]); points outside China pass through. */
export function wgs84ToGcj02(lon, lat) {
  if (!inChina(lon, lat)) return [lon, lat];
  const [dlon, dlat] = offset(lon, lat);
  return [lon + dlon, lat + dlat];
}

/** GCJ-02 -> WGS84, solved by fixed-point iteration (the offset is small and smooth). */
export function gcj02ToWgs84(lon, lat) {
  if (!inChina(lon, lat)) return [lon, lat];
  const [dlon, dlat] = offset(lon, lat);
  let x = lon - dlon;
  let y = lat - dlat;
  for (let i = 0; i < INVERSE_MAX_ITER; i++) {
    const [fx, fy] = wgs84ToGcj02(x, y);
    const ex = fx - lon;
    const ey = fy - lat;
    x -= ex;
    y -= ey;
    if (Math.abs(ex) < INVERSE_TOL && Math.abs(ey) < INVERSE_TOL) break;
  }
  return [x, y];
}

/**
 * The frame the map draws in: "wgs84" (no shift) or "gcj02" (the basemap's tiles are
 * GCJ-02, so WGS84 overlays are moved onto them and clicks are moved back).
 */
export function makeFrame(crs) {
  const gcj = String(crs || "wgs84").toLowerCase().replace(/[-_\s]/g, "") === "gcj02";
  return {
    crs: gcj ? "gcj02" : "wgs84",
    shifted: gcj,
    /** WGS84 data -> map position. */
    toMap: gcj ? wgs84ToGcj02 : (lon, lat) => [lon, lat],
    /** map position (a click, a dragged marker) -> WGS84. */
    toWgs: gcj ? gcj02ToWgs84 : (lon, lat) => [lon, lat],
  };
}
