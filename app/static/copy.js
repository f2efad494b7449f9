(text) => { if (navigator.clipboard) { navigator.clipboard.writeText(text || ''); } return []; }
