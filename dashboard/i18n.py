"""English and German labels of the dashboard (one table, looked up by key)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

LANGUAGES = ("en", "de")

# key: (English, German). Keys are stable identifiers; only the texts are shown.
_LABELS: dict[str, tuple[str, str]] = {
    "title": ("BESS-OS dashboard", "BESS-OS Dashboard"),
    "view": ("View", "Ansicht"),
    "meter": ("Meter", "Zähler"),
    "compare": ("Compare", "Vergleich"),
    "bess": ("BESS overview", "BESS-Übersicht"),
    "cells": ("Cells (PackPulse)", "Zellen (PackPulse)"),
    "system": ("System", "System"),
    "second_system": ("Second system", "Zweites System"),
    "range": ("Range", "Zeitraum"),
    "1d": ("1 day", "1 Tag"),
    "7d": ("7 days", "7 Tage"),
    "1m": ("1 month", "1 Monat"),
    "all": ("All", "Alles"),
    "language": ("Language", "Sprache"),
    "max_points": ("Max. points", "Max. Punkte"),
    "theme_dark": ("Dark theme", "Dunkles Design"),
    "theme_light": ("Light theme", "Helles Design"),
    "download_csv": ("Download CSV", "CSV herunterladen"),
    "no_systems": ("The store holds no systems of this kind.", "Der Speicher enthält keine Systeme dieser Art."),
    "error": ("Could not show this view", "Diese Ansicht kann nicht angezeigt werden"),
    "not_available": ("Not available yet: the core does not provide {what}.",
                      "Noch nicht verfügbar: der Kern liefert {what} noch nicht."),
    # meter
    "power": ("Active power", "Wirkleistung"),
    "power_factor": ("Power factor", "Leistungsfaktor"),
    "daily_energy": ("Energy per day", "Energie pro Tag"),
    "monthly_energy": ("Energy per month", "Energie pro Monat"),
    "import": ("Import", "Bezug"),
    "export": ("Export", "Einspeisung"),
    "aux": ("Auxiliary", "Eigenverbrauch"),
    "charge": ("Charge", "Laden"),
    "discharge": ("Discharge", "Entladen"),
    "net": ("Net", "Netto"),
    "peak_import": ("Peak import", "Max. Bezugsleistung"),
    "peak_export": ("Peak export", "Max. Einspeiseleistung"),
    "mean_power": ("Mean power", "Mittlere Leistung"),
    "mean_pf": ("Mean power factor", "Mittlerer Leistungsfaktor"),
    "load_factor": ("Load factor (import)", "Lastfaktor (Bezug)"),
    "load_factor_help": ("Mean import demand / peak import demand per interval; intervals that export "
                         "count as zero demand, so it lies between 0 and 1.",
                         "Mittlere Bezugsleistung / maximale Bezugsleistung je Intervall; Intervalle mit "
                         "Einspeisung zählen als null Bezug, daher liegt er zwischen 0 und 1."),
    "band": ("min/max", "Min/Max"),
    "time": ("Time (Europe/Berlin)", "Zeit (Europe/Berlin)"),
    "day_local": ("Day (Europe/Berlin)", "Tag (Europe/Berlin)"),
    "period": ("Day or month (Europe/Berlin)", "Tag oder Monat (Europe/Berlin)"),
    "energy": ("Energy", "Energie"),
    "energy_kind": ("Kind", "Art"),
    # compare
    "signal": ("Signal", "Signal"),
    "kpis": ("KPIs", "Kennzahlen"),
    "compare_same": ("{system} is chosen twice: pick a different second system to compare.",
                     "{system} ist zweimal gewählt: für den Vergleich ein anderes zweites System wählen."),
    # bess
    "group_bms": ("BMS", "BMS"),
    "group_pcs": ("PCS", "PCS"),
    "group_aux": ("Aux / thermal", "Nebenverbrauch / Thermik"),
    "group_env": ("Environment / safety", "Umgebung / Sicherheit"),
    "soc_min": ("SOC min", "SOC min"),
    "soc_mean": ("SOC mean", "SOC Mittel"),
    "soc_max": ("SOC max", "SOC max"),
    "soh": ("SOH (latest)", "SOH (aktuell)"),
    "soh_trend": ("SOH trend", "SOH-Trend"),
    "no_trend": ("no significant trend", "kein signifikanter Trend"),
    "trend_help": ("Least-squares slope of SOH over the range, shown only when it differs from zero "
                   "(p < 0.05).", "Steigung der Ausgleichsgeraden des SOH im Zeitraum, nur gezeigt, wenn "
                   "sie sich signifikant von null unterscheidet (p < 0,05)."),
    "unit_pct_per_year": ("%/year", "%/Jahr"),
    "cycles": ("Equivalent full cycles", "Äquivalente Vollzyklen"),
    "charged": ("Charged", "Geladen"),
    "discharged": ("Discharged", "Entladen"),
    "rte": ("Round-trip efficiency", "Wirkungsgrad"),
    "rte_aux": ("Efficiency incl. aux", "Wirkungsgrad inkl. Eigenverbrauch"),
    "aux_energy": ("Auxiliary energy", "Eigenverbrauch"),
    "peak_discharge": ("Peak discharge", "Max. Entladeleistung"),
    "peak_charge": ("Peak charge", "Max. Ladeleistung"),
    "nameplate": ("Nameplate", "Nennkapazität"),
    "no_data": ("no data", "keine Daten"),
    "coverage": ("coverage", "Abdeckung"),
    "soh_data": ("SOH (from data)", "SOH (aus Daten)"),
    "capacity_ah": ("Capacity (from data)", "Kapazität (aus Daten)"),
    "rte_dc": ("DC round-trip efficiency", "DC-Wirkungsgrad"),
    "rte_dc_aux": ("DC efficiency incl. aux", "DC-Wirkungsgrad inkl. Eigenverbrauch"),
    "alarm_activations": ("Alarm activations", "Alarmauslösungen"),
    "alarm_time": ("Time in alarm", "Zeit im Alarm"),
    "alarm_timeline": ("Alarm timeline", "Alarm-Zeitleiste"),
    "no_alarms": ("No alarm was active in this range.", "In diesem Zeitraum war kein Alarm aktiv."),
    "quick_series": ("Quick series viewer", "Schnellansicht Zeitreihen"),
    "temp_mean": ("{group} mean", "{group} Mittel"),
    "temp_max": ("{group} max", "{group} max"),
    "signal_axis": ("Alarm signal", "Alarmsignal"),
    # temperature groups (core.kpis)
    "tgroup_cells": ("Cells", "Zellen"),
    "tgroup_pcs_igbt": ("PCS IGBT", "PCS-IGBT"),
    "tgroup_pcs_environment": ("PCS environment", "PCS-Umgebung"),
    "tgroup_pcs_ambient": ("PCS ambient", "PCS-Außenluft"),
    "tgroup_hvac_outside": ("HVAC outside", "Klima außen"),
    "tgroup_hvac_outlet_water": ("HVAC outlet water", "Klima Vorlaufwasser"),
    "tgroup_dehumidifier": ("Dehumidifier", "Entfeuchter"),
    # cells
    "heatmap": ("Cell heatmap", "Zell-Heatmap"),
    "heatmap_kind": ("Heatmap", "Heatmap"),
    "sat": ("SAT voltage", "SAT-Spannung"),
    "deviation": ("Deviation from peers (system median)", "Abweichung von den Vergleichszellen (Systemmedian)"),
    "raw": ("Cell voltage (pyramid level)", "Zellspannung (Pyramidenstufe)"),
    "level": ("Level", "Stufe"),
    "pack": ("Pack", "Pack"),
    "cell": ("Cell", "Zelle"),
    "all_packs": ("All packs", "Alle Packs"),
    "sat_overview": ("SAT overview", "SAT-Übersicht"),
    "surface": ("SAT surface (cells x time)", "SAT-Fläche (Zellen x Zeit)"),
    "show_surface": ("Interactive 3D viewer (WebGL, reloads the page)",
                     "Interaktiver 3D-Viewer (WebGL, lädt die Seite neu)"),
    "surface_too_small": ("The surface needs at least two days and two cells; choose a longer range.",
                          "Die Fläche braucht mindestens zwei Tage und zwei Zellen; wählen Sie einen längeren "
                          "Zeitraum."),
    "surface_turn": ("Turn [°]", "Drehung [°]"),
    "surface_tilt": ("Tilt [°]", "Neigung [°]"),
    "surface_bin_from": ("Median of {k} days from", "Median über {k} Tage ab"),
    "surface_picture_note": ("Drawn on the server: turn and tilt it with the sliders; the pointer names cell, "
                             "day and SAT, a click opens the cell. Colours as in the heatmap (1st to 99th "
                             "percentile; black below, magenta above). The interactive viewer turns with the "
                             "mouse but needs WebGL: seconds to open on a computer without a graphics card.",
                             "Auf dem Server gezeichnet: mit den Reglern drehen und neigen; der Zeiger nennt "
                             "Zelle, Tag und SAT, ein Klick öffnet die Zelle. Farben wie in der Heatmap (1. bis "
                             "99. Perzentil; schwarz darunter, magenta darüber). Der interaktive Viewer dreht "
                             "mit der Maus, braucht aber WebGL: auf Rechnern ohne Grafikkarte Sekunden zum Öffnen."),
    "surface_reload": ("Loading the 3D viewer (the page reloads once) ...",
                       "Der 3D-Viewer wird geladen (die Seite lädt einmal neu) ..."),
    "surface_note_daily": ("One column per calendar day (Europe/Berlin); holes are days without SAT.",
                           "Eine Spalte je Kalendertag (Europe/Berlin); Löcher sind Tage ohne SAT."),
    "surface_note_binned": ("Each column is the median SAT of {k} calendar days (Europe/Berlin): "
                            "{n_days} days in {n_bins} columns, so the 3D view stays fluid; days without SAT "
                            "are left out of the median, holes are runs without any SAT day. "
                            "The heatmap above shows every day.",
                            "Jede Spalte ist der Median der SAT über {k} Kalendertage (Europe/Berlin): "
                            "{n_days} Tage in {n_bins} Spalten, damit die 3D-Ansicht flüssig bleibt; Tage "
                            "ohne SAT zählen nicht zum Median, Löcher sind Abschnitte ganz ohne SAT-Tag. "
                            "Die Heatmap oben zeigt jeden Tag."),
    "surface_hover_days": ("median of {k} days from {first}", "Median über {k} Tage ab {first}"),
    "health": ("Health per pack", "Zustand je Pack"),
    "healthy": ("healthy", "gesund"),
    "watched": ("watched", "beobachtet"),
    "critical": ("critical", "kritisch"),
    "pack_trends": ("Pack trends", "Pack-Trends"),
    "degradation": ("Degradation per cell", "Degradation je Zelle"),
    "fit_method": ("Fit", "Fit"),
    "fit_plot": ("Fit of the selected cell", "Fit der gewählten Zelle"),
    "alerts": ("Alerts", "Warnungen"),
    "no_alerts": ("No alerts.", "Keine Warnungen."),
    "cell_viewer": ("Raw cell voltage", "Rohe Zellspannung"),
    "voltage": ("Voltage", "Spannung"),
    "no_events": ("No pack events found.", "Keine Pack-Ereignisse gefunden."),
    "events": ("Pack events", "Pack-Ereignisse"),
    "day": ("Day", "Tag"),
    "clip_note": ("Colours span percentiles {p_low} to {p_high} of the values ({low} to {high} {unit}), "
                  "so one outlier does not wash out the rest; values below are black, values above magenta.",
                  "Die Farben reichen von Perzentil {p_low} bis {p_high} der Werte ({low} bis {high} {unit}), "
                  "damit ein Ausreißer die übrigen nicht verblassen lässt; Werte darunter sind schwarz, "
                  "darüber magenta."),
    "no_sat_note": ("Empty days: no SAT that day (the pack did not reach full charge, or no data).",
                    "Leere Tage: an diesem Tag keine SAT (das Pack war nicht voll geladen, oder keine Daten)."),
    "status": ("Status", "Status"),
    "cell_count": ("Cells", "Zellen"),
    "pack_mean_sat": ("Pack mean SAT", "Pack-Mittel SAT"),
    "fit_line": ("Fit", "Fit"),
    "measured": ("Measured", "Gemessen"),
    # alert severities and kinds (core.cells.alerts)
    "severity_info": ("info", "Hinweis"),
    "severity_warning": ("warning", "Warnung"),
    "severity_critical": ("critical", "kritisch"),
    "kind_drift_outlier": ("drift outlier", "Drift-Ausreißer"),
    "kind_pack_drift": ("pack drift", "Pack-Drift"),
    "kind_low_sat": ("low SAT", "niedrige SAT"),
    "kind_high_sat": ("high SAT", "hohe SAT"),
    "kind_high_spread": ("high spread", "hohe Streuung"),
    "kind_pack_event": ("pack event", "Pack-Ereignis"),
    # table column headers (dashboard.derive)
    "col_cell": ("Cell", "Zelle"),
    "col_pack": ("Pack", "Pack"),
    "col_slope_mv_per_day": ("Slope [mV/day]", "Steigung [mV/Tag]"),
    "col_r2": ("R²", "R²"),
    "col_loss_pct_per_year": ("Loss [%/year]", "Verlust [%/Jahr]"),
    "col_loss_pct_per_efc": ("Loss [%/EFC]", "Verlust [%/Vollzyklus]"),
    "col_sat_v_at_5000_efc": ("SAT at 5,000 EFC [V]", "SAT bei 5.000 Vollzyklen [V]"),
    "col_loss_pct_at_5000_efc": ("Loss at 5,000 EFC [%]", "Verlust bei 5.000 Vollzyklen [%]"),
    "col_sat_v_at_10000_efc": ("SAT at 10,000 EFC [V]", "SAT bei 10.000 Vollzyklen [V]"),
    "col_loss_pct_at_10000_efc": ("Loss at 10,000 EFC [%]", "Verlust bei 10.000 Vollzyklen [%]"),
    "col_n_days": ("SAT days", "SAT-Tage"),
    "col_linearity": ("Linearity", "Linearität"),
    "col_loss_rate": ("Loss rate", "Verlustrate"),
    "col_cycle_loss": ("Loss per cycle", "Verlust je Zyklus"),
    "col_where": ("Where", "Ort"),
    "col_rating": ("Rating", "Bewertung"),
    "col_drift_mv_per_month": ("Drift vs peers [mV/month]", "Drift ggü. Vergleichszellen [mV/Monat]"),
    "col_deviation_mv": ("Deviation today [mV]", "Abweichung heute [mV]"),
    "col_mechanism": ("Mechanism", "Mechanismus"),
    "col_limit_date": ("Reaches the limit", "Erreicht die Grenze"),
    "col_days": ("Days", "Tage"),
    "col_open": ("Open", "Öffnen"),
    "open": ("open cell", "Zelle öffnen"),
    "limit_already": ("already", "bereits"),
    "partial_day": ("(partial day)", "(Teiltag)"),
    "limit_never": ("never", "nie"),
    "drift_table": ("Cells against their peers (drift with 95 % interval; the limit is 40 mV from the system median)",
                    "Zellen gegenüber den Vergleichszellen (Drift mit 95-%-Intervall; Grenze 40 mV vom Systemmedian)"),
    "raw_fits": ("Raw SAT fits (include what every cell shares)", "Rohe SAT-Fits (mit dem Anteil aller Zellen)"),
    "col_severity": ("Severity", "Schweregrad"),
    "col_kind": ("Kind", "Art"),
    "col_reason": ("Reason", "Grund"),
    "col_healthy": ("Healthy", "Gesund"),
    "col_watched": ("Watched", "Beobachtet"),
    "col_critical": ("Critical", "Kritisch"),
    "col_n_cells": ("Cells", "Zellen"),
    "col_day": ("Day", "Tag"),
    "col_step_mv": ("Step [mV]", "Sprung [mV]"),
    "col_cells_affected": ("Cells affected", "Betroffene Zellen"),
    "col_rate_mv_per_month": ("Rate [mV/month]", "Rate [mV/Monat]"),
    "col_ci95_low_mv_per_month": ("95 % CI low [mV/month]", "95-%-KI unten [mV/Monat]"),
    "col_ci95_high_mv_per_month": ("95 % CI high [mV/month]", "95-%-KI oben [mV/Monat]"),
    # table pagination (Tabulator); English is Tabulator's own default
    "page_first": ("First", "Erste"),
    "page_last": ("Last", "Letzte"),
    "page_prev": ("Prev", "Zurück"),
    "page_next": ("Next", "Weiter"),
    "page_first_title": ("First page", "Erste Seite"),
    "page_last_title": ("Last page", "Letzte Seite"),
    "page_prev_title": ("Previous page", "Vorherige Seite"),
    "page_next_title": ("Next page", "Nächste Seite"),
    "page_title": ("Show page", "Seite zeigen"),
    "page_size": ("Page size", "Zeilen je Seite"),
    "page_all": ("All", "Alle"),
    # cell detail and annotations (issue 14 items 3 and 6)
    "annotation": ("What", "Was"),
    "more_alerts": ("(+{n} more)", "(+{n} weitere)"),
    "event_hover": ("Pack event {pack} on {day}: SAT step {step} mV", "Pack-Ereignis {pack} am {day}: SAT-Sprung {step} mV"),
    "annotation_legend_heatmap": ("{alert} outlined: cells or packs with an alert, over the days that raised it. "
                                  "{event} dashed: a pack event (a step of the pack's SAT). Hover for details; "
                                  "click a cell to open it.",
                                  "{alert} umrandet: Zellen oder Packs mit Warnung, über die auslösenden Tage. "
                                  "{event} gestrichelt: ein Pack-Ereignis (Sprung der SAT des Packs). Details beim "
                                  "Überfahren; Klick auf eine Zelle öffnet sie."),
    "annotation_legend_series": ("{alert} shaded: days that raised an alert. {event} dashed: a pack event. "
                                 "Hover for details.",
                                 "{alert} schattiert: Tage, die eine Warnung auslösten. {event} gestrichelt: ein "
                                 "Pack-Ereignis. Details beim Überfahren."),
    "system_median": ("System median", "Systemmedian"),
    "pack_median": ("Median of {pack}", "Median von {pack}"),
    "drift_fit": ("Drift fit", "Drift-Fit"),
    "projection_band": ("95 % projection", "95-%-Projektion"),
    "slope_band": ("95 % interval of the slope", "95-%-Intervall der Steigung"),
    "cell_detail": ("Cell {cell}", "Zelle {cell}"),
    "close_cell": ("Close", "Schließen"),
    "sat_day": ("SAT day", "SAT-Tag"),
    "sat_vs_peers": ("SAT of {cell} against its pack and the system", "SAT von {cell} gegen Pack und System"),
    "drift_title": ("{cell} against the system median: drift {drift} mV/month (95 % {low} … {high}), limit ±{limit} mV",
                    "{cell} gegen den Systemmedian: Drift {drift} mV/Monat (95 % {low} … {high}), Grenze ±{limit} mV"),
    "raw_around_day": ("Raw voltage of {cell} around {day}", "Rohspannung von {cell} um den {day}"),
    "no_sat_days": ("{cell} has no SAT day in the record.", "{cell} hat keinen SAT-Tag in den Daten."),
    "limit_reached_on": ("At this drift the deviation reaches ±{limit} mV on {date}.",
                         "Bei dieser Drift erreicht die Abweichung ±{limit} mV am {date}."),
    "cell_voltage": ("Cell voltage", "Zellspannung"),
    "tap_hint": ("Click a cell in the heatmap (or open an alert) to see it in detail.",
                 "Klicken Sie auf eine Zelle der Heatmap (oder öffnen Sie eine Warnung), um sie im Detail zu sehen."),
    # -- fleet screen, auto-refresh, absolute window, CSV of KPIs (issue 11 item 4, issue 14 items 1 and 6) --
    "fleet": ("Fleet", "Flotte"),
    "fleet_title": ("Fleet ranked by risk", "Flotte nach Risiko geordnet"),
    "fleet_note": ("Most urgent first: critical findings (cells and pack alerts), then warnings, then the fastest "
                   "cell drift, then missing data of the last 30 days, then ingest problems. Click a row to open "
                   "the system.",
                   "Dringendstes zuerst: kritische Befunde (Zellen und Pack-Warnungen), dann Warnungen, dann die "
                   "schnellste Zelldrift, dann fehlende Daten der letzten 30 Tage, dann Importprobleme. Eine Zeile "
                   "anklicken öffnet das System."),
    "fleet_kind_bess": ("BESS", "BESS"),
    "fleet_kind_meter": ("Meter", "Zähler"),
    "fleet_critical": ("critical", "kritisch"),
    "fleet_warning": ("warning", "Warnung"),
    "fleet_ok": ("ok", "in Ordnung"),
    "fleet_col_rank": ("#", "#"),
    "fleet_col_system": ("System", "System"),
    "fleet_col_kind": ("Kind", "Art"),
    "fleet_col_status": ("Status", "Status"),
    "fleet_col_critical_cells": ("Critical cells", "Kritische Zellen"),
    "fleet_col_warning_cells": ("Cells with warning", "Zellen mit Warnung"),
    "fleet_col_pack_alerts": ("Pack alerts", "Pack-Warnungen"),
    "fleet_col_worst_cell": ("Worst cell", "Auffälligste Zelle"),
    "fleet_col_worst_drift_mv_per_month": ("Its drift [mV/month]", "Ihre Drift [mV/Monat]"),
    "fleet_col_pack_events": ("Pack events", "Pack-Ereignisse"),
    "fleet_col_efc": ("EFC", "Vollzyklen"),
    "fleet_col_soh_pct": ("SOH [%]", "SOH [%]"),
    "fleet_col_coverage_pct": ("Data, last 30 days [%]", "Daten, letzte 30 Tage [%]"),
    "fleet_col_last_data": ("Last data (Europe/Berlin)", "Letzte Daten (Europe/Berlin)"),
    "fleet_col_problems": ("Ingest problems", "Importprobleme"),
    "fleet_col_open": ("Open", "Öffnen"),
    "fleet_col_open_cells": ("Cells", "Zellen"),
    "auto_refresh": ("Auto-refresh", "Automatisch aktualisieren"),
    "auto_refresh_help": ("Redraws the screen when an ingest publishes new data (checked every few seconds).",
                          "Zeichnet die Ansicht neu, sobald ein Import neue Daten veröffentlicht (alle paar "
                          "Sekunden geprüft)."),
    "date_from": ("From (day)", "Von (Tag)"),
    "date_to": ("To (day, inclusive)", "Bis (Tag, einschließlich)"),
    "absolute_range": ("Absolute window (replaces the range)", "Fester Zeitraum (ersetzt den Bereich)"),
    "clear_dates": ("Clear dates", "Daten löschen"),
    "bad_link": ("Some values in the link could not be used and were reset to their defaults: {names}.",
                 "Einige Werte im Link waren ungültig und wurden auf den Standard zurückgesetzt: {names}."),
    "page_failed": ("This page could not be built; the error has been logged.",
                    "Diese Seite konnte nicht aufgebaut werden; der Fehler wurde protokolliert."),
}


def tr(key: str, lang: str, **fmt: object) -> str:
    """The label of ``key`` in ``lang`` ('en' or 'de').

    An unknown key is a KeyError, not the key itself: a string without a translation must fail
    loudly (tests/test_i18n.py and the browser tests) instead of showing an identifier.
    """
    try:
        en, de = _LABELS[key]
    except KeyError:
        raise KeyError(f"no translation for dashboard label {key!r} (add it to dashboard/i18n.py)") from None
    text = de if lang == "de" else en
    return text.format(**fmt) if fmt else text


def tr_enum(prefix: str, value: str, lang: str) -> str:
    """The label of a core enumeration value (``severity_critical``); a value the core added after
    this table falls back to itself (logged) so the page still shows it. tests/test_i18n.py
    enumerates the core's members, so a missing one fails there."""
    try:
        return tr(f"{prefix}_{value}", lang)
    except KeyError:
        log.warning("no %s translation for %r", prefix, value)
        return value


def keys() -> frozenset[str]:
    """Every label key (for the translation tests)."""
    return frozenset(_LABELS)


def tabulator_locale(lang: str) -> dict:
    """Tabulator options that show its pagination in ``lang`` (English is Tabulator's default)."""
    if lang == "en":
        return {}
    pagination = {name: tr(f"page_{name}", lang) for name in
                  ("first", "first_title", "last", "last_title", "prev", "prev_title", "next", "next_title",
                   "all", "size")}
    pagination["page_size"] = pagination.pop("size")
    pagination["page_title"] = tr("page_title", lang)
    return {"locale": lang, "langs": {lang: {"pagination": pagination}}}
