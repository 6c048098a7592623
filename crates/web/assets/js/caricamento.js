// Drag and drop on the upload form: a file dropped on the zone goes into the file input, so
// the form is submitted as usual (the page works without this script too).
(function () {
  var zona = document.getElementById('zona-file');
  var campo = document.getElementById('file');
  var aiuto = document.getElementById('zona-file-aiuto');
  if (!zona || !campo) { return; }
  function mostra() {
    if (campo.files && campo.files.length) {
      aiuto.textContent = 'File scelto: ' + campo.files[0].name + ' (' + Math.round(campo.files[0].size / 1024) + ' kB)';
    }
  }
  ['dragenter', 'dragover'].forEach(function (t) {
    zona.addEventListener(t, function (e) { e.preventDefault(); zona.classList.add('push-trascina-attiva'); });
  });
  ['dragleave', 'drop'].forEach(function (t) {
    zona.addEventListener(t, function () { zona.classList.remove('push-trascina-attiva'); });
  });
  zona.addEventListener('drop', function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) {
      campo.files = e.dataTransfer.files;
      mostra();
    }
  });
  campo.addEventListener('change', mostra);
  var modulo = document.getElementById('modulo-caricamento');
  if (modulo) {
    modulo.addEventListener('submit', function () {
      var b = modulo.querySelector('button[type=submit]');
      if (b) { b.disabled = true; b.textContent = 'Caricamento in corso…'; }
    });
  }
})();
