"""The dashboard's screens, one pn.viewable.Viewer each."""
