"""The 3D SAT surface drawn on the server: a z-buffered, shaded picture of cells x day bins (Numba).

Why a picture: plotly.js's WebGL surface needs its 4.6 MB script in the page and, without a GPU
(software GL), 2-3 s for its first draw. A height field of 260 x 150 quads projected and
rasterized here takes milliseconds, and the picture is drawn by Bokeh like the heatmap. It turns
by azimuth and elevation (a re-render), and its pixels still name their cell, day and SAT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

# The box the surface is drawn in (world units): days along x, cells along y, SAT up z. The same
# proportions as the WebGL view's aspect ratio, so both show the same shape.
BOX_X, BOX_Y, BOX_Z = 1.6, 1.0, 0.6
AMBIENT = 0.35  # light every face gets; the rest comes from the faces' turn towards the light


@dataclass(frozen=True)
class View:
    """Where the surface is seen from: azimuth (degrees, 0 = looking along the cells, from the
    first day's side) and elevation (degrees above the base plane, 90 = from straight above)."""

    azimuth_deg: float = -50.0
    elevation_deg: float = 30.0

    def __post_init__(self):
        if not (math.isfinite(self.azimuth_deg) and math.isfinite(self.elevation_deg)):
            raise ValueError(f"view angles must be finite, got {self.azimuth_deg!r}, {self.elevation_deg!r}")
        if not 0.0 <= self.elevation_deg <= 90.0:
            raise ValueError(f"elevation_deg must be within 0..90, got {self.elevation_deg!r}")


@dataclass(frozen=True)
class Picture:
    """A rendered surface, pixel row 0 at the top. Background pixels: alpha 0, NaN value, -1 indices."""

    rgba: np.ndarray
    """uint8 (height, width, 4): the shaded colours."""
    value: np.ndarray
    """float64 (height, width): the SAT under each pixel (interpolated between the grid's points)."""
    row: np.ndarray
    """int32 (height, width): the grid row (cell) nearest to the pixel's point on the surface."""
    column: np.ndarray
    """int32 (height, width): the grid column (day bin) nearest to it."""
    project: "Projector"
    """Maps world points of the box to pixel coordinates (for axes and labels drawn over it)."""


@dataclass(frozen=True)
class Projector:
    """World (x, y, z) -> pixel (px from the left, py from the top), for one view and picture size."""

    cos_a: float
    sin_a: float
    cos_e: float
    sin_e: float
    scale: float
    u0: float
    v0: float
    height: int

    def __call__(self, x, y, z) -> tuple[np.ndarray, np.ndarray]:
        u, v, _ = _rotate(np.asarray(x, float), np.asarray(y, float), np.asarray(z, float),
                          self.cos_a, self.sin_a, self.cos_e, self.sin_e)
        return (u - self.u0) * self.scale, (self.height - 1) - (v - self.v0) * self.scale

    def depth(self, x, y, z) -> np.ndarray:
        """Distance into the screen of world points (larger = further from the viewer)."""
        return _rotate(np.asarray(x, float), np.asarray(y, float), np.asarray(z, float),
                       self.cos_a, self.sin_a, self.cos_e, self.sin_e)[2]


def _rotate(x, y, z, cos_a, sin_a, cos_e, sin_e):
    """Screen right (u), screen up (v) and depth (larger = further away) of world points."""
    xr = x * cos_a - y * sin_a  # turned about the vertical axis by the azimuth
    yr = x * sin_a + y * cos_a  # horizontal distance into the screen
    return xr, z * cos_e + yr * sin_e, yr * cos_e - z * sin_e


def render(values: np.ndarray, clim: tuple[float, float], colours: np.ndarray, *, width: int, height: int,
           view: View = View(), below: tuple[int, int, int] = (0, 0, 0),
           above: tuple[int, int, int] = (255, 0, 255), margin_px: int = 40) -> Picture:
    """The surface of ``values`` (rows x columns, NaN = no point) in a ``width`` x ``height`` picture.

    Heights and colours span ``clim`` (values beyond it are drawn at its edge, in ``below`` or
    ``above``); ``colours`` is the colour map, uint8 (n, 3) from low to high. Only quads whose
    four corners are finite are drawn: a day without SAT stays a hole, as in the heatmap.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be rows x columns, got shape {values.shape}")
    if width < 2 * margin_px + 2 or height < 2 * margin_px + 2:
        raise ValueError(f"picture of {width} x {height} px is too small for {margin_px} px margins")
    lo, hi = (float(c) for c in clim)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"clim must be two finite numbers, low < high, got {clim!r}")
    colours = np.asarray(colours, dtype=np.uint8)
    if colours.ndim != 2 or colours.shape[1] != 3 or colours.shape[0] < 2:
        raise ValueError(f"colours must be an (n >= 2, 3) array of RGB, got shape {colours.shape}")
    n_rows, n_cols = values.shape
    a, e = math.radians(view.azimuth_deg), math.radians(view.elevation_deg)
    cos_a, sin_a, cos_e, sin_e = math.cos(a), math.sin(a), math.cos(e), math.sin(e)
    # the grid in the box, centred on the origin; heights clipped to the colour range
    x = (np.arange(n_cols) / max(n_cols - 1, 1) - 0.5) * BOX_X
    y = (np.arange(n_rows) / max(n_rows - 1, 1) - 0.5) * BOX_Y
    z = (np.clip(values, lo, hi) - lo) / (hi - lo) * BOX_Z - BOX_Z / 2
    gx, gy = np.meshgrid(x, y)
    u, v, depth = _rotate(gx, gy, z, cos_a, sin_a, cos_e, sin_e)
    # The whole box fits the picture whatever is drawn, so a turn does not rescale the surface.
    cx, cy, cz = (np.array([-1.0, 1.0]) * h / 2 for h in (BOX_X, BOX_Y, BOX_Z))
    corners = np.array(np.meshgrid(cx, cy, cz)).reshape(3, -1)
    cu, cv, _ = _rotate(*corners, cos_a, sin_a, cos_e, sin_e)
    scale = min((width - 2 * margin_px) / np.ptp(cu), (height - 2 * margin_px) / np.ptp(cv))
    u0 = cu.min() - ((width - 1) / scale - np.ptp(cu)) / 2
    v0 = cv.min() - ((height - 1) / scale - np.ptp(cv)) / 2
    px = (u - u0) * scale
    py = (height - 1) - (v - v0) * scale
    # Light from over the viewer's left shoulder, in world coordinates (a fixed light would leave
    # the surface dark from some sides).
    light = np.array(_unrotate(-0.4, 0.6, -0.7, cos_a, sin_a, cos_e, sin_e))
    light /= np.linalg.norm(light)
    value_px = np.full((height, width), np.nan)
    row_px = np.full((height, width), -1, dtype=np.int32)
    col_px = np.full((height, width), -1, dtype=np.int32)
    shade_px = np.zeros((height, width))
    _raster(px, py, depth, values, gx, gy, z, light, AMBIENT, value_px, row_px, col_px, shade_px)
    rgba = _colour(value_px, shade_px, lo, hi, colours, np.array(below, np.float64), np.array(above, np.float64))
    return Picture(rgba=rgba, value=value_px, row=row_px, column=col_px,
                   project=Projector(cos_a, sin_a, cos_e, sin_e, float(scale), float(u0), float(v0), height))


def _unrotate(u, v, d, cos_a, sin_a, cos_e, sin_e):
    """The world direction of a screen direction (u right, v up, d into the screen): _rotate inverted."""
    yr = v * sin_e + d * cos_e
    z = v * cos_e - d * sin_e
    return u * cos_a + yr * sin_a, -u * sin_a + yr * cos_a, z


def _colour(value, shade, lo, hi, colours, below, above) -> np.ndarray:
    """Colour-mapped, shaded RGBA of each pixel; transparent where nothing was drawn."""
    drawn = np.isfinite(value)
    t = np.clip((np.where(drawn, value, lo) - lo) / (hi - lo), 0.0, 1.0)
    rgb = colours[np.rint(t * (len(colours) - 1)).astype(np.intp)].astype(np.float64)
    rgb[drawn & (value < lo)] = below
    rgb[drawn & (value > hi)] = above
    rgb *= shade[..., None]
    out = np.zeros(value.shape + (4,), dtype=np.uint8)
    out[..., :3] = np.clip(np.rint(rgb), 0, 255)
    out[..., 3] = np.where(drawn, 255, 0)
    return out


@njit(cache=True)
def _raster(px, py, depth, values, gx, gy, gz, light, ambient, value_px, row_px, col_px, shade_px):
    """Draw each grid quad as two triangles, nearest point winning per pixel (a z-buffer).

    Per pixel: the SAT, grid row and column interpolated from the triangle's corners (the row and
    column rounded, so each pixel names its nearest grid point) and the triangle's shade.
    """
    height, width = value_px.shape
    zbuf = np.full((height, width), np.inf)
    n_rows, n_cols = values.shape
    tri = ((0, 0, 1, 0, 1, 1), (0, 0, 1, 1, 0, 1))  # (dr, dc) of three corners, two triangles per quad
    for r in range(n_rows - 1):
        for c in range(n_cols - 1):
            if not (np.isfinite(values[r, c]) and np.isfinite(values[r + 1, c]) and np.isfinite(values[r, c + 1])
                    and np.isfinite(values[r + 1, c + 1])):
                continue
            for t in range(2):
                ra, ca = r + tri[t][0], c + tri[t][1]
                rb, cb = r + tri[t][2], c + tri[t][3]
                rc, cc = r + tri[t][4], c + tri[t][5]
                # the face's normal (world), for the shade; either side may face the viewer
                e1x, e1y, e1z = gx[rb, cb] - gx[ra, ca], gy[rb, cb] - gy[ra, ca], gz[rb, cb] - gz[ra, ca]
                e2x, e2y, e2z = gx[rc, cc] - gx[ra, ca], gy[rc, cc] - gy[ra, ca], gz[rc, cc] - gz[ra, ca]
                nx, ny, nz = e1y * e2z - e1z * e2y, e1z * e2x - e1x * e2z, e1x * e2y - e1y * e2x
                norm = math.sqrt(nx * nx + ny * ny + nz * nz)
                shade = ambient
                if norm > 0:
                    shade += (1.0 - ambient) * abs(nx * light[0] + ny * light[1] + nz * light[2]) / norm
                _triangle(px[ra, ca], py[ra, ca], depth[ra, ca], values[ra, ca], ra, ca,
                          px[rb, cb], py[rb, cb], depth[rb, cb], values[rb, cb], rb, cb,
                          px[rc, cc], py[rc, cc], depth[rc, cc], values[rc, cc], rc, cc,
                          shade, zbuf, value_px, row_px, col_px, shade_px)


@njit(cache=True)
def _triangle(x0, y0, d0, v0, r0, c0, x1, y1, d1, v1, r1, c1, x2, y2, d2, v2, r2, c2,
              shade, zbuf, value_px, row_px, col_px, shade_px):
    """Fill the pixels whose centres lie in the triangle (barycentric test, shared edges included)."""
    height, width = zbuf.shape
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    if area == 0.0:
        return
    lo_x = max(int(math.floor(min(x0, x1, x2))), 0)
    hi_x = min(int(math.ceil(max(x0, x1, x2))), width - 1)
    lo_y = max(int(math.floor(min(y0, y1, y2))), 0)
    hi_y = min(int(math.ceil(max(y0, y1, y2))), height - 1)
    for iy in range(lo_y, hi_y + 1):
        for ix in range(lo_x, hi_x + 1):
            w0 = ((x1 - ix) * (y2 - iy) - (x2 - ix) * (y1 - iy)) / area
            w1 = ((x2 - ix) * (y0 - iy) - (x0 - ix) * (y2 - iy)) / area
            w2 = 1.0 - w0 - w1
            if w0 < -1e-9 or w1 < -1e-9 or w2 < -1e-9:
                continue
            d = w0 * d0 + w1 * d1 + w2 * d2
            if d >= zbuf[iy, ix]:
                continue
            zbuf[iy, ix] = d
            value_px[iy, ix] = w0 * v0 + w1 * v1 + w2 * v2
            row_px[iy, ix] = int(round(w0 * r0 + w1 * r1 + w2 * r2))
            col_px[iy, ix] = int(round(w0 * c0 + w1 * c1 + w2 * c2))
            shade_px[iy, ix] = shade
