// Stands in for optional packages nunjucks' Node loaders reference but the engine never uses (chokidar).
module.exports = {};
