/* PUSH – maps of the register (Leaflet). No inline scripts (CSP): the page gives the data in
 * the data-mappa attribute of the map element, as JSON, or the address of that JSON in
 * data-mappa-url (the dashboard, whose page must stay light):
 *   {"tile_url": "https://…/{z}/{x}/{y}.png" or "", "attribuzione": "…",
 *    "punti": [[lat, lon, "etichetta", "/area/registro/…", "occupazione"?], …]}
 * The optional fifth element colours the marker by the building's occupancy (see COLORI; the
 * page prints the legend). Markers are drawn as circles on a canvas (fast with thousands of
 * points, and visible even when the tile server cannot be reached or no tile URL is
 * configured), grouped in clusters when Leaflet.markercluster is loaded. Labels come from
 * uploaded files: they reach the page as text nodes only, never as HTML. */
(function () {
  'use strict';

  var PUGLIA = [41.0, 16.6];

  // Occupancy of a building's units: fill and border (the legend on the page says the same).
  var COLORI = {
    occupato: ['#00704a', '#003d28'],
    parziale: ['#d98c00', '#7a4f00'],
    sfitto: ['#c4122f', '#6b0a1a'],
    senza: ['#8a9aa9', '#3d4a57']
  };

  function testo(etichetta) {
    var el = document.createElement('span');
    el.textContent = String(etichetta);
    return el;
  }

  function popup(etichetta, url) {
    var el = document.createElement('div');
    if (url) {
      var a = document.createElement('a');
      a.href = url;
      a.textContent = etichetta || 'Scheda del fabbricato';
      el.appendChild(a);
    } else {
      el.textContent = etichetta || '';
    }
    return el;
  }

  function avvia(el) {
    var url = el.getAttribute('data-mappa-url');
    if (url) {
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) {
          if (!r.ok) {
            throw new Error(String(r.status));
          }
          return r.json();
        })
        .then(function (dati) {
          disegna(el, dati);
        })
        .catch(function (e) {
          if (window.console) {
            window.console.error(e);
          }
          el.textContent = 'I punti della mappa non sono disponibili ora: riprovi più tardi.';
        });
      return;
    }
    var dati;
    try {
      dati = JSON.parse(el.getAttribute('data-mappa') || '{}');
    } catch (e) {
      return;
    }
    disegna(el, dati);
  }

  function disegna(el, dati) {
    var stato = document.getElementById(el.id + '-stato');
    if (stato && typeof dati.descrizione === 'string') {
      stato.textContent = dati.descrizione;
    }
    if (typeof L === 'undefined') {
      el.textContent = 'La mappa non è disponibile in questo browser.';
      return;
    }
    // maxZoom: clustering needs it even without a tile layer.
    var mappa = L.map(el, { preferCanvas: true, scrollWheelZoom: false, maxZoom: 19 });
    if (dati.tile_url) {
      var strato = L.tileLayer(dati.tile_url, {
        maxZoom: 19,
        attribution: dati.attribuzione || ''
      });
      var errori = 0;
      strato.on('tileerror', function () {
        errori += 1;
        if (errori === 1 && el.parentNode) {
          var nota = document.createElement('p');
          nota.className = 'small text-muted mt-1';
          nota.setAttribute('role', 'status');
          nota.textContent = 'Lo sfondo della mappa non è raggiungibile: sono mostrati solo i punti.';
          el.parentNode.insertBefore(nota, el.nextSibling);
        }
      });
      strato.addTo(mappa);
    } else if (el.parentNode) {
      var senza = document.createElement('p');
      senza.className = 'small text-muted mt-1';
      senza.textContent = 'Mappa senza sfondo cartografico: sono mostrati solo i punti.';
      el.parentNode.insertBefore(senza, el.nextSibling);
    }
    var punti = dati.punti || [];
    var estremi = [];
    // Clusters keep a million-unit region readable; without the plugin, plain markers.
    var gruppo = typeof L.markerClusterGroup === 'function'
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 })
      : null;
    for (var i = 0; i < punti.length; i++) {
      var p = punti[i];
      var lat = Number(p[0]);
      var lon = Number(p[1]);
      if (!isFinite(lat) || !isFinite(lon)) {
        continue;
      }
      var colori = COLORI[p[4]] || ['#0066cc', '#003366'];
      var m = L.circleMarker([lat, lon], {
        radius: punti.length > 500 ? 6 : 8,
        color: colori[1],
        weight: 2,
        fillColor: colori[0],
        fillOpacity: 0.85
      });
      if (p[2] || p[3]) {
        m.bindPopup(popup(p[2], p[3]));
        if (p[2]) {
          // Text, never HTML: the label comes from uploaded files (Leaflet puts a string
          // tooltip in innerHTML, an element as it is).
          m.bindTooltip(testo(p[2]));
        }
      }
      if (gruppo) {
        gruppo.addLayer(m);
      } else {
        m.addTo(mappa);
      }
      estremi.push([lat, lon]);
    }
    if (gruppo) {
      gruppo.addTo(mappa);
    }
    if (estremi.length === 1) {
      mappa.setView(estremi[0], 17);
    } else if (estremi.length > 1) {
      mappa.fitBounds(estremi, { padding: [20, 20], maxZoom: 17 });
    } else {
      mappa.setView(PUGLIA, 8);
    }
  }

  function tutte() {
    var el = document.querySelectorAll('[data-mappa], [data-mappa-url]');
    for (var i = 0; i < el.length; i++) {
      avvia(el[i]);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', tutte);
  } else {
    tutte();
  }
})();
